import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ArchiveEntry, writeTar, writeZip } from "../dist/index.js";
import { discard, temporaryDirectory } from "./fixtures.js";

const work = temporaryDirectory("memory");
afterAll(() => work.cleanup());

const MB = 1024 * 1024;

/** 300 MB of streamed entries (large-file path) and 100 MB of 1 MB files on disk (worker path). */
function generatedEntries(): ArchiveEntry[] {
  const files = join(work.directory, "files");
  mkdirSync(files, { recursive: true });
  const block = Buffer.alloc(MB);
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;
  const entries: ArchiveEntry[] = [];
  for (let i = 0; i < 100; i++) {
    const path = join(files, `f${i}.bin`);
    writeFileSync(path, block);
    entries.push({ kind: "file", name: `files/f${i}.bin`, path });
  }
  for (let i = 0; i < 10; i++) {
    entries.push({
      kind: "stream",
      name: `streams/s${i}.bin`,
      size: 30 * MB,
      async *open() {
        for (let j = 0; j < 30; j++) yield block;
      },
    });
  }
  return entries;
}

describe("streaming", () => {
  it("writes 400 MB of entries with RSS growing far less than the archive", async () => {
    const entries = generatedEntries();
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      const zipSink = discard();
      const zip = await writeZip(entries, zipSink, { level: 1 });
      expect(zip.contentBytes).toBe(400 * MB);
      expect(zipSink.bytes).toBe(zip.bytes);
      const tarSink = discard();
      await writeTar(entries, tarSink, { gzip: true, level: 1 });
      expect(tarSink.bytes).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
    }
    expect(peak - before).toBeLessThan(120 * MB);
  }, 60_000);
});
