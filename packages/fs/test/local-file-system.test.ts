import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
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
