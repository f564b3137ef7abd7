import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { embeddedStorePath } from "../src/embedded-store.js";
import { localFileSystem } from "../src/local-file-system.js";
import { registerFileSystem, resolveFileSystem, schemeOf, unregisterFileSystem } from "../src/registry.js";

describe("resolveFileSystem", () => {
  afterEach(() => unregisterFileSystem("custom"));

  it("serves plain paths, ~ and file:// URLs from the local adapter as absolute paths", async () => {
    expect((await resolveFileSystem("/srv/envs/a.pex")).path).toBe("/srv/envs/a.pex");
    expect((await resolveFileSystem("envs/a.pex")).path).toBe(resolve("envs/a.pex"));
    expect((await resolveFileSystem("~/envs/a.pex")).path).toBe(join(homedir(), "envs/a.pex"));
    const { fs, path } = await resolveFileSystem("file:///srv/my%20envs/a.pex");
    expect(fs.scheme).toBe("file");
    expect(path).toBe("/srv/my envs/a.pex");
  });

  it("reads the scheme case-insensitively and treats scheme-less strings as paths", () => {
    expect(schemeOf("S3://bucket/key")).toBe("s3");
    expect(schemeOf("hdfs:///user/x")).toBe("hdfs");
    expect(schemeOf("relative/dir:with/colon")).toBe("file");
    expect(schemeOf("file:/tmp/x")).toBe("file");
  });

  it("hands registered schemes their URL and options", async () => {
    registerFileSystem("custom", (uri, options) => ({
      fs: localFileSystem(),
      path: `${uri.host}|${uri.pathname}|${String(options.custom)}`,
    }));
    const { path } = await resolveFileSystem("custom://store/a/b", { custom: "opt" });
    expect(path).toBe("store|/a/b|opt");
  });

  it("rejects an unknown scheme in one line that names the URI and the known schemes", async () => {
    const error = await resolveFileSystem("gs://bucket/env.pex").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "INVALID_ARGUMENT", location: "gs://bucket/env.pex" });
    expect((error as Error).message).toBe(
      "gs://bucket/env.pex: no storage adapter for gs:// (known: file, hdfs, s3, s3a, swebhdfs, viewfs, webhdfs; a plugin package adds others)",
    );
  });

  it("names the package to install when a built-in adapter is missing", async () => {
    // @cluster-pack/fs-s3 is not a dependency of this package, so it cannot be found from here.
    await expect(resolveFileSystem("s3://bucket/envs/a.pex")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "s3://bucket/envs/a.pex: install @cluster-pack/fs-s3 to use s3:// URLs",
    });
    await expect(resolveFileSystem("webhdfs://nn:9870/x")).rejects.toThrow(
      "install @cluster-pack/fs-hdfs to use webhdfs:// URLs",
    );
  });

  it("rejects an empty URI and malformed URLs", async () => {
    await expect(resolveFileSystem("")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    registerFileSystem("custom", () => {
      throw new Error("unreachable");
    });
    await expect(resolveFileSystem("custom://bad host/x")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "custom://bad host/x: not a valid URL",
    });
  });
});

describe("embeddedStorePath", () => {
  it("defaults to the user cache directory and follows XDG_CACHE_HOME and CLUSTER_PACK_STORE", () => {
    expect(embeddedStorePath({})).toBe(join(homedir(), ".cache", "cluster-pack", "store"));
    expect(embeddedStorePath({ XDG_CACHE_HOME: "/var/cache/u" })).toBe("/var/cache/u/cluster-pack/store");
    expect(embeddedStorePath({ XDG_CACHE_HOME: "/x", CLUSTER_PACK_STORE: "s3://team/store" })).toBe(
      "s3://team/store",
    );
  });
});
