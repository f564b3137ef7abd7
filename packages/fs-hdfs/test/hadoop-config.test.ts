import { describe, expect, it } from "vitest";
import { webHdfsUrlsFor } from "../src/hadoop-config.js";

const configuration = (properties: Record<string, string>) => new Map(Object.entries(properties));

describe("namenode HTTP addresses", () => {
  const ha = configuration({
    "dfs.nameservices": "analytics",
    "dfs.ha.namenodes.analytics": "nn1,nn2",
    "dfs.namenode.rpc-address.analytics.nn1": "master1.example:8020",
    "dfs.namenode.rpc-address.analytics.nn2": "master2.example:8020",
    "dfs.namenode.http-address.analytics.nn1": "master1.example:9870",
    "dfs.namenode.http-address.analytics.nn2": "0.0.0.0:9870",
    "dfs.namenode.https-address.analytics.nn1": "master1.example:9871",
    "dfs.namenode.https-address.analytics.nn2": "master2.example:9871",
  });

  it("expands a nameservice to its namenodes in configured order, for hdfs:// and webhdfs://", () => {
    const expected = ["http://master1.example:9870", "http://master2.example:9870"];
    expect(webHdfsUrlsFor(ha, "hdfs", "analytics", "")).toEqual(expected);
    expect(webHdfsUrlsFor(ha, "webhdfs", "analytics", "")).toEqual(expected);
  });

  it("maps an RPC address to the HTTP address configured beside it", () => {
    expect(webHdfsUrlsFor(ha, "hdfs", "master2.example", "8020")).toEqual(["http://master2.example:9870"]);
    const single = configuration({
      "dfs.namenode.rpc-address": "nn.example:8020",
      "dfs.namenode.http-address": "nn-web.example:50070",
    });
    expect(webHdfsUrlsFor(single, "hdfs", "nn.example", "")).toEqual(["http://nn-web.example:50070"]);
  });

  it("uses a wildcard http-address's port on the URI's host", () => {
    const wildcard = configuration({ "dfs.namenode.http-address": "0.0.0.0:50070" });
    expect(webHdfsUrlsFor(wildcard, "hdfs", "nn.example", "8020")).toEqual(["http://nn.example:50070"]);
  });

  it("falls back to port 9870 on the namenode host, and takes webhdfs:// ports as given", () => {
    const empty = configuration({});
    expect(webHdfsUrlsFor(empty, "hdfs", "nn.example", "8020")).toEqual(["http://nn.example:9870"]);
    expect(webHdfsUrlsFor(empty, "webhdfs", "nn.example", "50070")).toEqual(["http://nn.example:50070"]);
    expect(webHdfsUrlsFor(empty, "swebhdfs", "nn.example", "")).toEqual(["https://nn.example:9871"]);
  });

  it("switches to the HTTPS addresses when dfs.http.policy is HTTPS_ONLY", () => {
    const https = new Map([...ha, ["dfs.http.policy", "HTTPS_ONLY"]]);
    expect(webHdfsUrlsFor(https, "hdfs", "analytics", "")).toEqual([
      "https://master1.example:9871",
      "https://master2.example:9871",
    ]);
  });

  it("names the missing key when a nameservice lists a namenode without addresses", () => {
    const broken = configuration({ "dfs.ha.namenodes.analytics": "nn1" });
    expect(() => webHdfsUrlsFor(broken, "hdfs", "analytics", "")).toThrow(
      "nameservice analytics lists namenode nn1 without dfs.namenode.http-address.analytics.nn1",
    );
  });
});
