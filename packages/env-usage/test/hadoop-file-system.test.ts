import { describe, expect, it } from "vitest";
import { fileSystemsToName, hadoopFileSystemOf } from "../src/index.js";

describe("hadoopFileSystemOf", () => {
  it.each([
    ["hdfs://nn2:8020/envs/env.pex", "hdfs://nn2:8020"],
    ["HDFS://NN2.Example.COM/envs/env.pex", "hdfs://nn2.example.com"],
    ["s3://bucket/envs/env.pex", "s3a://bucket"],
    ["viewfs://cluster/user/me/env.pex", "viewfs://cluster"],
    ["webhdfs://user@nn:9870/x", "webhdfs://nn:9870"],
    ["hdfs://[::1]:8020/x", "hdfs://[::1]:8020"],
  ])("%s is on %s", (uri, fileSystem) => {
    expect(hadoopFileSystemOf(uri)).toBe(fileSystem);
  });

  it.each([
    "hdfs:///user/me/env.pex",
    "file:///tmp/env.pex",
    "file://host/tmp/env.pex",
    "/tmp/env.pex",
    "env.pex",
  ])("%s names no file system", (uri) => {
    expect(hadoopFileSystemOf(uri)).toBeUndefined();
  });
});

describe("fileSystemsToName", () => {
  it("leaves out the default file system, with or without its default port, in any case", () => {
    expect(
      fileSystemsToName(["hdfs://main-nn/a", "HDFS://Main-NN:8020/b", "hdfs:///c"], "hdfs://main-nn:8020"),
    ).toEqual([]);
    expect(fileSystemsToName(["hdfs://main-nn:8020/a"], "hdfs://main-nn/")).toEqual([]);
  });

  it("names each other file system once, in order, after what is given", () => {
    expect(
      fileSystemsToName(
        ["hdfs://nn2:8020/a", "s3://bucket/b", "hdfs://nn2/c", "viewfs://cluster/d", "file:///e", "/f"],
        "hdfs://main-nn:8020",
        ["s3a://bucket"],
      ),
    ).toEqual(["hdfs://nn2:8020", "viewfs://cluster"]);
  });

  it("names every remote file system when the default one is local", () => {
    expect(fileSystemsToName(["hdfs://nn2:8020/a", "file:///b"], "file:///")).toEqual(["hdfs://nn2:8020"]);
  });
});
