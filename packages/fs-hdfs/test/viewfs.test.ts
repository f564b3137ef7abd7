import { StorageError } from "@cluster-pack/fs";
import { describe, expect, it } from "vitest";
import { resolveViewFs, viewFsMountTable } from "../src/index.js";

const table = (properties: Record<string, string>) => new Map(Object.entries(properties));

const cluster = table({
  "fs.viewfs.mounttable.cluster.link./user": "hdfs://nn1:8020/user",
  "fs.viewfs.mounttable.cluster.link./user/alice": "hdfs://nn2:8020/homes/alice/",
  "fs.viewfs.mounttable.cluster.link./data": "s3a://bucket/warehouse",
  "fs.viewfs.mounttable.cluster.link./scratch": "file:///tmp/scratch",
  "fs.viewfs.mounttable.cluster.link./root": "file:///",
  "fs.viewfs.mounttable.other.link./user": "hdfs://other-nn:8020/user",
  "fs.viewfs.mounttable.other.linkFallback": "hdfs://other-nn:8020/",
  "fs.viewfs.mounttable.default.link./": "hdfs://default-nn:8020/base",
});

function caught(run: () => unknown): StorageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).not.toContain("\n");
    return error as StorageError;
  }
  throw new Error("expected a StorageError");
}

describe("resolveViewFs: the mount table of core-site.xml", () => {
  it("maps a path under a link to the link's target with the rest of the path", () => {
    expect(resolveViewFs("viewfs://cluster/user/bob/envs/a.pex", cluster)).toBe(
      "hdfs://nn1:8020/user/bob/envs/a.pex",
    );
    expect(resolveViewFs("viewfs://cluster/data/2024/part-0", cluster)).toBe(
      "s3a://bucket/warehouse/2024/part-0",
    );
    expect(resolveViewFs("viewfs://cluster/scratch/x", cluster)).toBe("file:///tmp/scratch/x");
  });

  it("lets the longest link win", () => {
    expect(resolveViewFs("viewfs://cluster/user/alice/env.pex", cluster)).toBe(
      "hdfs://nn2:8020/homes/alice/env.pex",
    );
    expect(resolveViewFs("viewfs://cluster/user/alice", cluster)).toBe("hdfs://nn2:8020/homes/alice/");
  });

  it("matches links on whole path components only", () => {
    expect(resolveViewFs("viewfs://cluster/user/alicia/x", cluster)).toBe("hdfs://nn1:8020/user/alicia/x");
    const error = caught(() => resolveViewFs("viewfs://cluster/database/x", cluster));
    expect(error.code).toBe("INVALID_ARGUMENT");
  });

  it("maps the mount point itself to the target, and ignores repeated and trailing slashes", () => {
    expect(resolveViewFs("viewfs://cluster/user", cluster)).toBe("hdfs://nn1:8020/user");
    expect(resolveViewFs("viewfs://cluster//user//bob/", cluster)).toBe("hdfs://nn1:8020/user/bob");
  });

  it("joins onto a target that is the root of its file system", () => {
    expect(resolveViewFs("viewfs://cluster/root/etc/hosts", cluster)).toBe("file:///etc/hosts");
    expect(resolveViewFs("viewfs://other/tmp/x", cluster)).toBe("hdfs://other-nn:8020/tmp/x");
  });

  it("sends paths no link covers to the linkFallback", () => {
    expect(resolveViewFs("viewfs://other/user/bob", cluster)).toBe("hdfs://other-nn:8020/user/bob");
    expect(resolveViewFs("viewfs://other/apps/spark", cluster)).toBe("hdfs://other-nn:8020/apps/spark");
    expect(resolveViewFs("viewfs://other/", cluster)).toBe("hdfs://other-nn:8020/");
  });

  it("keeps percent-encoded names encoded in the target", () => {
    expect(resolveViewFs("viewfs://cluster/user/bob/my%20env%3F.pex", cluster)).toBe(
      "hdfs://nn1:8020/user/bob/my%20env%3F.pex",
    );
  });

  it("reads viewfs:/// as the table fs.viewfs.mounttable.default.name.key names, else 'default'", () => {
    expect(resolveViewFs("viewfs:///user/x", cluster)).toBe("hdfs://default-nn:8020/base/user/x");
    const named = new Map([...cluster, ["fs.viewfs.mounttable.default.name.key", "cluster"]]);
    expect(resolveViewFs("viewfs:///user/x", named)).toBe("hdfs://nn1:8020/user/x");
  });

  it("refuses a path no link covers in a table without a fallback, naming the URI and the table", () => {
    const error = caught(() => resolveViewFs("viewfs://cluster/apps/x", cluster));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe(
      "viewfs://cluster/apps/x: no link of viewfs mount table cluster covers this path, and it has no linkFallback (fs.viewfs.mounttable.cluster.link.<path> in core-site.xml)",
    );
    expect(caught(() => resolveViewFs("viewfs://nowhere/x", cluster)).message).toContain(
      "viewfs mount table nowhere",
    );
  });

  it("refuses links to viewfs://, targets that are not URIs, and URIs with a query", () => {
    const looping = table({ "fs.viewfs.mounttable.t.link./a": "viewfs://t/b" });
    expect(caught(() => resolveViewFs("viewfs://t/a/x", looping)).message).toContain(
      "a link cannot target viewfs://",
    );
    const bad = table({ "fs.viewfs.mounttable.t.link./a": "not a uri" });
    expect(caught(() => resolveViewFs("viewfs://t/a/x", bad)).message).toContain("which is not a URI");
    expect(caught(() => resolveViewFs("viewfs://cluster/user/x?y", cluster)).code).toBe("INVALID_ARGUMENT");
    expect(caught(() => resolveViewFs("hdfs://cluster/user/x", cluster)).code).toBe("INVALID_ARGUMENT");
  });

  it("lists a table's links longest first, and its fallback", () => {
    const parsed = viewFsMountTable(cluster, "cluster");
    expect(parsed.links.map((link) => link.path)).toEqual([
      "/user/alice",
      "/scratch",
      "/data",
      "/root",
      "/user",
    ]);
    expect(parsed.fallback).toBeUndefined();
    expect(viewFsMountTable(cluster, "other").fallback).toBe("hdfs://other-nn:8020/");
  });
});
