import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { riskyTarEntries, riskyZipEntries, verifyZip } from "../dist/index.js";
import { python, temporaryDirectory, zipLinkPython } from "./fixtures.js";

const work = temporaryDirectory("hostile");
const at = (name: string) => join(work.directory, name);

// Crafted with Python's zipfile and tarfile; the 1 GiB member is one full-flushed deflate block of 1 MiB of zeros
// repeated (about 1 MB stored), whose central directory entry then declares a smaller size.
const builder = `
import io, os, struct, sys, tarfile, zipfile, zlib
out = sys.argv[1]
${zipLinkPython}
with zipfile.ZipFile(os.path.join(out, "links.zip"), "w") as z:
    z.writestr("pkg/__init__.py", "")
    z.writestr("../escaped.py", "")
    z.writestr("/etc/cron.d/job", "")
    link(z, "alias", "pkg")
    link(z, "pkg/again", ".")
    link(z, "lib64", "pkg")
    link(z, "lib3", "lib64")
    link(z, "l1", ".")
    link(z, "l2", "l1/..")
    link(z, "a", "b/..")
    link(z, "b", ".")
    link(z, "etc", "/etc")
    z.writestr("alias/written-through.py", "")

with zipfile.ZipFile(os.path.join(out, "traversal.zip"), "w") as z:
    z.writestr("ok.py", "")
    z.writestr("sub/../../escaped.py", "")

compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
raw = block * 1024 + zlib.compressobj(6, zlib.DEFLATED, -15).flush()
crc = 0
for _ in range(1024):
    crc = zlib.crc32(bytes(1 << 20), crc)
for name, declared in (("lying-small.zip", 100), ("lying-large.zip", 9 << 20)):
    entry = b"bomb.bin"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(raw), declared, len(entry), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, 0, 8, 0, 0x21, crc, len(raw), declared,
                          len(entry), 0, 0, 0, 0, 0o100644 << 16, 0)
    directory = central + entry
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(directory), len(local) + len(entry) + len(raw), 0)
    with open(os.path.join(out, name), "wb") as archive:
        archive.write(local + entry + raw + directory + end)

with tarfile.open(os.path.join(out, "links.tar.gz"), "w:gz") as t:
    def add(name, kind=tarfile.REGTYPE, target=""):
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = target
        t.addfile(info, io.BytesIO(b""))
    add("./pkg/__init__.py")
    add("./alias", tarfile.SYMTYPE, "pkg")
    add("./l1", tarfile.SYMTYPE, ".")
    add("./l2", tarfile.SYMTYPE, "l1/..")
    add("../escaped.py")
    add("/abs.py")
    add("./same", tarfile.LNKTYPE, "pkg/__init__.py")
    add("./passwd", tarfile.LNKTYPE, "../../etc/passwd")
    add("./via-link", tarfile.LNKTYPE, "alias/__init__.py")
    add("./l1/through.py")
`;

beforeAll(() => {
  python(builder, work.directory);
}, 60_000);
afterAll(() => work.cleanup());

describe("riskyZipEntries", () => {
  it("reports traversal, absolute paths, links resolving outside through other links, and entries beneath links", async () => {
    expect(await riskyZipEntries(at("links.zip"))).toEqual([
      { name: "../escaped.py", reason: "traversal" },
      { name: "/etc/cron.d/job", reason: "absolute" },
      { name: "l2", reason: "symlink" },
      { name: "a", reason: "symlink" },
      { name: "etc", reason: "symlink" },
      { name: "alias/written-through.py", reason: "symlink" },
    ]);
  });
});

describe("verifyZip", () => {
  it("refuses an entry climbing out of the extraction directory with one line", async () => {
    await expect(verifyZip(at("traversal.zip"))).rejects.toMatchObject({
      code: "UNSAFE",
      message: expect.stringMatching(
        /^[^\n]*traversal\.zip: entry "sub\/\.\.\/\.\.\/escaped\.py": unsafe entry: its path climbs out of the extraction directory with \.\.$/,
      ),
    });
  });

  // In a child process, to measure its peak memory alone: an unbounded inflate would take over 1 GiB.
  const verifyInChild = (archive: string) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { verifyZip } from ${JSON.stringify(join(import.meta.dirname, "..", "dist", "index.js"))};
           let message = "";
           try { await verifyZip(${JSON.stringify(archive)}); } catch (error) { message = error.message; }
           console.log(JSON.stringify({ message, peakBytes: process.resourceUsage().maxRSS * 1024 }));`,
        ],
        { encoding: "utf8" },
      ),
    ) as { message: string; peakBytes: number };

  it("stops a small entry inflating past its declared size at once, in bounded memory", () => {
    const outcome = verifyInChild(at("lying-small.zip"));
    expect(outcome.message).toMatch(/: entry "bomb\.bin": inflates past its declared size of 100 bytes$/);
    expect(outcome.peakBytes).toBeLessThan(256 << 20);
  });

  it("stops a streamed entry inflating past its declared size at once, in bounded memory", () => {
    const outcome = verifyInChild(at("lying-large.zip"));
    expect(outcome.message).toMatch(/: entry "bomb\.bin": inflates past its declared size of 9437184 bytes$/);
    expect(outcome.peakBytes).toBeLessThan(256 << 20);
  });
});

describe("riskyTarEntries", () => {
  it("reports traversal, absolute paths, hard links climbing out or made through a link, links resolving outside and entries beneath them", async () => {
    expect(await riskyTarEntries(at("links.tar.gz"))).toEqual([
      { name: "./l2", reason: "symlink" },
      { name: "../escaped.py", reason: "traversal" },
      { name: "/abs.py", reason: "absolute" },
      { name: "./passwd", reason: "traversal" },
      { name: "./via-link", reason: "symlink" },
      { name: "./l1/through.py", reason: "symlink" },
    ]);
  });
});
