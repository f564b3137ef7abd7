import { Readable } from "node:stream";
import { PLUGINS_ENV, registerFileSystem, resolveFileSystem, unregisterFileSystem } from "@cluster-pack/fs";
import { describeFileSystem } from "@cluster-pack/fs/testing";
import { afterEach, describe, expect, it } from "vitest";

let run = 0;
const uniqueBase = () => `memory://conformance-${process.pid}-${++run}/data`;

// Loaded by package name, as a config or CLI plugin list does: the plugin ships outside @cluster-pack/fs.
describeFileSystem("memory:// plugin loaded by name", async () => ({
  baseUri: uniqueBase(),
  options: { plugins: ["cluster-pack-fs-memory"] },
  cleanup: async () => unregisterFileSystem("memory"),
}));

describe("plugin loading", () => {
  afterEach(() => {
    unregisterFileSystem("memory");
    delete process.env[PLUGINS_ENV];
  });

  it("does not know memory:// until the plugin is loaded", async () => {
    await expect(resolveFileSystem("memory://x/a")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("no storage adapter for memory://"),
    });
  });

  it("loads the plugins listed in CLUSTER_PACK_PLUGINS", async () => {
    process.env[PLUGINS_ENV] = " cluster-pack-fs-memory ,";
    const { fs, path } = await resolveFileSystem("memory://env-route/file.txt");
    await fs.put(Readable.from([Buffer.from("hello")]), path);
    expect(await fs.stat(path)).toMatchObject({ type: "file", size: 5 });
    expect(fs.toUri(path)).toBe("memory://env-route/file.txt");
  });

  it("accepts a factory registered directly with registerFileSystem", async () => {
    const { fileSystemPlugin } = await import("../src/plugin.js");
    registerFileSystem("memory", fileSystemPlugin.factory);
    const { fs, path } = await resolveFileSystem("memory://direct/a/b.txt");
    await fs.put(Readable.from([Buffer.from("b")]), path);
    expect((await fs.ls("/a")).map((entry) => entry.name)).toEqual(["b.txt"]);
  });

  it("names a plugin that is not installed", async () => {
    await expect(resolveFileSystem("memory://x/a", { plugins: ["cluster-pack-fs-nowhere"] })).rejects.toThrow(
      "plugin cluster-pack-fs-nowhere is not installed (npm install cluster-pack-fs-nowhere)",
    );
  });

  it("refuses a package that is not a storage plugin", async () => {
    await expect(resolveFileSystem("memory://x/a", { plugins: ["vitest"] })).rejects.toThrow(
      "vitest is not a cluster-pack storage plugin",
    );
  });
});
