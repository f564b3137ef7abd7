import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectTree, listZip, verifyZip, writeZip } from "../dist/index.js";
import { buildTree, python, temporaryDirectory } from "./fixtures.js";

const hex = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

describe("zip content digests and closing entries", () => {
  let work: { directory: string; cleanup: () => void };
  beforeEach(() => {
    work = temporaryDirectory("digests");
    buildTree(join(work.directory, "tree"));
    // Above the writer's whole-file limit (8 MiB), so one entry takes the streamed path.
    writeFileSync(join(work.directory, "tree", "data", "large.bin"), randomBytes(9 << 20));
  });
  afterEach(() => work.cleanup());

  for (const level of [0, 1]) {
    it(`returns the sha256 of every entry's content, as read, at level ${level}`, async () => {
      const tree = join(work.directory, "tree");
      const entries = [...collectTree(tree)];
      let digests: ReadonlyMap<string, string> = new Map();
      await writeZip(entries, join(work.directory, "out.zip"), {
        level,
        closingEntries: (seen) => {
          digests = new Map(seen);
          return [];
        },
      });
      const expected = new Map<string, string>();
      for (const entry of entries) {
        if (entry.kind === "file") expected.set(entry.name, hex(readFileSync(entry.path)));
        if (entry.kind === "symlink") expected.set(entry.name, hex(entry.target));
      }
      expect(digests).toEqual(expected);
    });

    it(`writes closing entries last, built from the digests of everything before them, at level ${level}`, async () => {
      const tree = join(work.directory, "tree");
      const output = join(work.directory, "out.zip");
      let seen: Map<string, string> | undefined;
      await writeZip(
        [...collectTree(tree), { kind: "buffer", name: "zz-main.py", data: Buffer.from("print(1)\n") }],
        output,
        {
          level,
          closingEntries: (digests) => {
            seen = new Map(digests);
            const lines = [...digests].map(([name, digest]) => `${name},${digest}\n`).join("");
            return [{ kind: "buffer", name: "INDEX", data: Buffer.from(lines) }];
          },
        },
      );
      expect(seen?.get("zz-main.py")).toBe(hex("print(1)\n"));
      expect(seen?.get("data/large.bin")).toBe(hex(readFileSync(join(tree, "data", "large.bin"))));
      const listing = await listZip(output);
      expect(listing.entries.at(-1)?.name).toBe("INDEX");
      await verifyZip(output);
      const index = python(
        "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read('INDEX').decode(), end='')",
        output,
      );
      expect(index.split("\n").filter(Boolean)).toHaveLength(seen?.size ?? -1);
    });
  }

  it("refuses a closing entry whose name is already in the archive", async () => {
    const tree = join(work.directory, "tree");
    await expect(
      writeZip([...collectTree(tree)], join(work.directory, "out.zip"), {
        closingEntries: () => [{ kind: "buffer", name: "pkg/core.py", data: Buffer.from("") }],
      }),
    ).rejects.toThrow(/pkg\/core\.py.*duplicate entry name|duplicate entry name.*pkg\/core\.py/);
  });
});
