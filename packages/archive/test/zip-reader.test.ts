import { appendFileSync, closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { ArchiveError, listZip, verifyZip, writeZip } from "../dist/index.js";
import { temporaryDirectory } from "./fixtures.js";

const work = temporaryDirectory("reader");
afterAll(() => work.cleanup());

describe("the zip reader", () => {
  it("reports the first entry whose CRC-32 does not match, in one line", async () => {
    const path = join(work.directory, "damaged.zip");
    await writeZip(
      [
        { kind: "buffer", name: "a.txt", data: Buffer.from("first entry\n") },
        { kind: "buffer", name: "b.txt", data: Buffer.from("second entry\n") },
      ],
      path,
      { level: 0 },
    );
    const b = (await listZip(path)).entries.find((entry) => entry.name === "b.txt");
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.from("X"), 0, 1, (b?.offset ?? 0) + 30 + "b.txt".length + 2);
    closeSync(fd);
    const error = await verifyZip(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error).toMatchObject({ code: "CORRUPT", entry: "b.txt" });
    expect((error as Error).message).toMatch(
      /^.*damaged\.zip: entry "b\.txt": CRC-32 mismatch \(expected 0x[0-9a-f]{8}, got 0x[0-9a-f]{8}\)$/,
    );
  });

  it("lists the zip that a second one is appended to (a zipapp's launcher), and verifies both", async () => {
    const path = join(work.directory, "stacked.pex");
    const prefix = "#!/usr/bin/env python3\n";
    const first = await writeZip(
      [
        { kind: "buffer", name: ".deps/mod.py", data: Buffer.from("VALUE = 1\n") },
        { kind: "buffer", name: "PEX-INFO", data: Buffer.from("{}") },
      ],
      path,
      { prefix, level: 0 },
    );
    // The appended zip counts its offsets from its own start, as Python's zipfile reads a zip behind a prefix.
    const chunks: Buffer[] = [];
    const memory = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    await writeZip([{ kind: "buffer", name: "__main__.py", data: Buffer.from("print(1)\n") }], memory);
    appendFileSync(path, Buffer.concat(chunks));
    const listing = await listZip(path);
    expect(listing.entries.map((entry) => entry.name)).toEqual([".deps/mod.py", "PEX-INFO"]);
    expect(listing.prefixBytes).toBe(prefix.length);
    expect(listing.appended?.entries.map((entry) => [entry.name, entry.offset])).toEqual([
      ["__main__.py", first.bytes],
    ]);
    expect(await verifyZip(path)).toEqual({ entries: 3, contentBytes: 10 + 2 + 9 });
  });

  it("refuses a file that is not a zip", async () => {
    const path = join(work.directory, "not.zip");
    await writeZip([], path);
    const fd = openSync(path, "w");
    writeSync(fd, "hello");
    closeSync(fd);
    await expect(listZip(path)).rejects.toMatchObject({ code: "CORRUPT" });
  });

  it("rejects duplicate and escaping entry names before writing", async () => {
    const data = Buffer.from("x");
    await expect(
      writeZip([{ kind: "buffer", name: "../evil", data }], join(work.directory, "evil.zip")),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(
      writeZip(
        [
          { kind: "buffer", name: "a", data },
          { kind: "buffer", name: "a", data },
        ],
        join(work.directory, "dup.zip"),
      ),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT", entry: "a" });
  });
});
