import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ArchiveEntry,
  ArchiveError,
  type MemberVisitor,
  readTarMembers,
  readZipMembers,
  writeTar,
  writeZip,
} from "../dist/index.js";
import { python } from "./fixtures.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-archive-members-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const longName = `pkg/${"deep/".repeat(40)}module_with_a_long_name.py`;
// Larger than the zip reader's one-call limit (8 MiB), so its streamed inflating is read too.
const big = randomBytes(9 << 20);
const contents: Record<string, Uint8Array> = {
  "pkg/__init__.py": Buffer.from(""),
  "pkg/data.bin": big,
  [longName]: Buffer.from("print('far down')\n"),
  "pkg/small.txt": Buffer.from("small\n"),
};
const entries: ArchiveEntry[] = [
  { kind: "directory", name: "pkg" },
  ...Object.entries(contents).map(([name, data]): ArchiveEntry => ({ kind: "buffer", name, data })),
  { kind: "symlink", name: "pkg/link.txt", target: "small.txt" },
];

/** Every regular file's name, size and content hash; only files named in `read` have their content read. */
async function walk(
  walker: (path: string, visit: MemberVisitor) => Promise<void>,
  path: string,
  read: (name: string) => boolean = () => true,
) {
  const seen: Record<string, { size: number; sha256?: string }> = {};
  await walker(path, async (file) => {
    if (file.kind !== "file") return;
    if (!read(file.name)) {
      seen[file.name] = { size: file.size };
      return;
    }
    const hash = createHash("sha256");
    for await (const piece of file.content()) hash.update(piece);
    seen[file.name] = { size: file.size, sha256: hash.digest("hex") };
  });
  return seen;
}

const expected = Object.fromEntries(
  Object.entries(contents).map(([name, data]) => [name, { size: data.length, sha256: sha256(data) }]),
);

describe("readZipMembers and readTarMembers", () => {
  it("gives each regular file of our .tar.gz with its content, long names included", async () => {
    const archive = join(root, "ours.tar.gz");
    await writeTar(entries, archive, { gzip: true });
    expect(await walk(readTarMembers, archive)).toEqual(expected);
  });

  it("skips what a visitor leaves unread and still finds the next entries", async () => {
    const archive = join(root, "skip.tar.gz");
    await writeTar(entries, archive, { gzip: true });
    const seen = await walk(readTarMembers, archive, (name) => name !== "pkg/data.bin");
    expect(seen["pkg/data.bin"]).toEqual({ size: big.length });
    expect(seen[longName]).toEqual(expected[longName]);
    expect(seen["pkg/small.txt"]).toEqual(expected["pkg/small.txt"]);
  });

  it("reads GNU and pax tars written by Python's tarfile", async () => {
    const source = join(root, "tree");
    for (const [name, data] of Object.entries(contents)) {
      await mkdir(dirname(join(source, name)), { recursive: true });
      await writeFile(join(source, name), data);
    }
    for (const format of ["GNU_FORMAT", "PAX_FORMAT"]) {
      const archive = join(root, `python-${format}.tar`);
      python(
        `import tarfile, sys\nwith tarfile.open(sys.argv[1], "w", format=tarfile.${format}) as t: t.add(sys.argv[2], arcname="pkg")`,
        archive,
        join(source, "pkg"),
      );
      expect(await walk(readTarMembers, archive), format).toEqual(expected);
    }
  });

  it("gives each regular file of a zip, inflating small and large entries", async () => {
    const archive = join(root, "ours.zip");
    await writeZip(entries, archive, { level: 6 });
    expect(await walk(readZipMembers, archive)).toEqual(expected);
    const stored = join(root, "stored.zip");
    await writeZip(entries, stored, { level: 0 });
    expect(await walk(readZipMembers, stored)).toEqual(expected);
  });

  it("says a file that is neither tar nor gzip is not a tar archive", async () => {
    const archive = join(root, "notes.tar.gz");
    await writeFile(archive, "some notes, not an archive\n".repeat(40));
    const error = await walk(readTarMembers, archive).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as ArchiveError).message).toMatch(/notes\.tar\.gz.*not a readable tar/);
  });

  it("refuses a truncated tar as damaged", async () => {
    const archive = join(root, "cut.tar");
    await writeTar(entries, archive);
    await truncate(archive, (await readFile(archive)).length - 5_000_000);
    const error = await walk(readTarMembers, archive).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as ArchiveError).code).toBe("CORRUPT");
  });
});
