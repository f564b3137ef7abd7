import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { type ArchiveEntry, listZip, verifyZip, writeZip } from "../dist/index.js";
import { hasCommand, python, temporaryDirectory } from "./fixtures.js";

const work = temporaryDirectory("zip64");
afterAll(() => work.cleanup());

const countAndCheck = `
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
infos = z.infolist()
print(len(infos), z.testzip())
`;

describe("ZIP64", () => {
  it("writes more than 65,535 entries with ZIP64 end records that Python and our reader read", async () => {
    const count = 70_000;
    const entries: ArchiveEntry[] = Array.from({ length: count }, (_, i) => ({
      kind: "buffer",
      name: `d${i % 100}/f${i}.txt`,
      data: Buffer.from(`entry ${i}\n`),
    }));
    const path = join(work.directory, "many.zip");
    const summary = await writeZip(entries, path, { level: 1 });
    expect(summary.zip64).toBe(true);
    expect(python(countAndCheck, path).trim()).toBe(`${count} None`);
    expect(
      python("import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).read('d7/f69907.txt').decode())", path),
    ).toBe("entry 69907\n\n");
    const listing = await listZip(path);
    expect(listing.zip64).toBe(true);
    expect(listing.entries).toHaveLength(count);
    expect((await verifyZip(path)).entries).toBe(count);
  }, 60_000);

  it("keeps a small archive free of ZIP64 records unless forced, and forced records are read everywhere", async () => {
    const entries: ArchiveEntry[] = [
      { kind: "buffer", name: "a.txt", data: Buffer.from("alpha\n".repeat(100)) },
      { kind: "stream", name: "b.bin", size: 3, open: () => Readable.from([Buffer.from("abc")]) },
      { kind: "directory", name: "dir" },
    ];
    const plain = join(work.directory, "plain.zip");
    expect((await writeZip(entries, plain)).zip64).toBe(false);
    expect((await listZip(plain)).zip64).toBe(false);
    const forced = join(work.directory, "forced.zip");
    expect((await writeZip(entries, forced, { forceZip64: true, prefix: "#!/bin/sh\n" })).zip64).toBe(true);
    expect(python(countAndCheck, forced).trim()).toBe("3 None");
    expect(
      python("import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).read('b.bin').decode())", forced).trim(),
    ).toBe("abc");
    expect((await verifyZip(forced)).entries).toBe(3);
    if (hasCommand("unzip"))
      expect(execFileSync("unzip", ["-t", forced], { encoding: "utf8" })).toContain("No errors");
  });

  it("stores an entry larger than 4 GiB with ZIP64 sizes and offsets", async () => {
    const size = 4 * 1024 ** 3 + 12_345;
    const chunk = Buffer.alloc(4 << 20, 0x61);
    async function* generate() {
      for (let left = size; left > 0; left -= chunk.length)
        yield chunk.subarray(0, Math.min(left, chunk.length));
    }
    const entries: ArchiveEntry[] = [
      { kind: "stream", name: "big.bin", size, open: generate },
      { kind: "buffer", name: "z-after.txt", data: Buffer.from("after the big one\n") },
    ];
    const path = join(work.directory, "big.zip");
    const summary = await writeZip(entries, path, { level: 0 });
    expect(summary.zip64).toBe(true);
    const infos = python(
      "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print([(i.filename, i.file_size, i.header_offset > 2**32) for i in z.infolist()]); print(z.read('z-after.txt').decode())",
      path,
    );
    expect(infos).toContain(`('big.bin', ${size}, False), ('z-after.txt', 18, True)`);
    expect(infos).toContain("after the big one");
    const listing = await listZip(path);
    expect(listing.entries.map((entry) => entry.size)).toEqual([size, 18]);
  }, 90_000);
});
