import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { localFileSystem } from "../src/local-file-system.js";
import { describeFileSystem } from "../src/testing.js";

const localDirectory = async (prefix: string) => {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  return { directory, cleanup: () => rm(directory, { recursive: true, force: true }) };
};

describeFileSystem("local path", async () => {
  const { directory, cleanup } = await localDirectory("cp-local-");
  return { baseUri: directory, cleanup };
});

describeFileSystem("file:// URL", async () => {
  const { directory, cleanup } = await localDirectory("cp-file-url-");
  return { baseUri: pathToFileURL(directory).href, cleanup };
});

describe("local open", () => {
  const openDescriptors = async () => (await readdir("/proc/self/fd")).length;
  /** Reads a stream to its end and waits for it to release what it holds. */
  const drain = (stream: Readable) => once(stream.resume(), "close");

  it.skipIf(!existsSync("/proc/self/fd"))(
    "closes the file it opened whenever it returns no stream that owns it",
    async () => {
      const { directory, cleanup } = await localDirectory("cp-local-fds-");
      const fs = localFileSystem();
      const file = join(directory, "ten.txt");
      await writeFile(file, "0123456789");
      const before = await openDescriptors();
      for (let round = 0; round < 5; round++) {
        await expect(fs.open(file, { offset: 11 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(fs.open(directory, { offset: 1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(fs.open(directory)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(fs.put(directory, join(directory, "copy"))).rejects.toMatchObject({
          code: "INVALID_ARGUMENT",
        });
        await drain(await fs.open(file, { offset: 4, length: 0 }));
        await drain(await fs.open(file, { offset: 10 }));
        await drain(await fs.open(file, { offset: 2, length: 3 }));
      }
      expect(await openDescriptors()).toBe(before);
      await cleanup();
    },
  );
});

describe("local put of a stream", () => {
  it("gives the new file the mode asked for (a zipapp stays executable), else the default", async () => {
    const { directory, cleanup } = await localDirectory("cp-local-mode-");
    try {
      const fs = localFileSystem();
      await fs.put(Readable.from([Buffer.from("#!/usr/bin/env python3\n")]), join(directory, "env.pex"), {
        mode: 0o755,
      });
      await fs.put(Readable.from([Buffer.from("{}\n")]), join(directory, "env.json"));
      expect((await stat(join(directory, "env.pex"))).mode & 0o777).toBe(0o755);
      expect((await stat(join(directory, "env.json"))).mode & 0o111).toBe(0);
    } finally {
      await cleanup();
    }
  });
});
