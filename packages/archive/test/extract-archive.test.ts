import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  archiveKindOf,
  collectTree,
  extractArchive,
  readArchiveMembers,
  writeTar,
  writeZip,
} from "../dist/index.js";
import { buildTree, python, temporaryDirectory, zipLinkPython } from "./fixtures.js";

const work = temporaryDirectory("extract");
const at = (name: string) => join(work.directory, name);

// Crafted with Python's zipfile and tarfile: what our writers never produce but other tools do.
const builder = `
import io, os, sys, tarfile, warnings, zipfile
warnings.simplefilter("ignore")  # the duplicate entry is the point
out = sys.argv[1]
${zipLinkPython}
with zipfile.ZipFile(os.path.join(out, "venv-like.zip"), "w") as z:
    z.writestr("environment/lib/site.py", "x = 1\\n")
    link(z, "environment/bin/python", "/usr/bin/python3")

with zipfile.ZipFile(os.path.join(out, "through-link.zip"), "w") as z:
    link(z, "environment/bin", "/tmp")
    z.writestr("environment/bin/planted", "")

with zipfile.ZipFile(os.path.join(out, "twice.zip"), "w") as z:
    z.writestr("a.py", "1")
    z.writestr("a.py", "2")

with zipfile.ZipFile(os.path.join(out, "traversal.zip"), "w") as z:
    z.writestr("ok.py", "")
    z.writestr("sub/../../escaped.py", "")

long_name = "pkg/" + "d" * 120 + "/module_with_a_long_name.py"
with tarfile.open(os.path.join(out, "pax.tar"), "w", format=tarfile.PAX_FORMAT) as t:
    data = b"long = True\\n"
    info = tarfile.TarInfo(long_name)
    info.size = len(data)
    info.mode = 0o640
    t.addfile(info, io.BytesIO(data))
    same = tarfile.TarInfo("pkg/same.py")
    same.type = tarfile.LNKTYPE
    same.linkname = long_name
    t.addfile(same)
print(long_name)
`;

let longName = "";

beforeAll(async () => {
  longName = python(builder, work.directory).trim();
  buildTree(at("tree"));
  await writeZip(collectTree(at("tree")), at("tree.zip"), { level: 6 });
  await writeTar(collectTree(at("tree"), { prefix: "environment" }), at("tree.tar.gz"), {
    gzip: true,
    level: 1,
  });
}, 60_000);
afterAll(() => work.cleanup());

const listed = (root: string): string[] =>
  readdirSync(root, { recursive: true, encoding: "utf8" })
    .map((name) => name.split("\\").join("/"))
    .sort();

describe("archiveKindOf", () => {
  it("tells zips from tars and gzip-compressed tars by their first bytes", async () => {
    expect(await archiveKindOf(at("tree.zip"))).toBe("zip");
    expect(await archiveKindOf(at("tree.tar.gz"))).toBe("tar");
    expect(await archiveKindOf(at("pax.tar"))).toBe("tar");
  });
});

describe("readArchiveMembers", () => {
  it("gives every member of a zip with its kind, mode and checked content", async () => {
    const seen: Record<string, { kind: string; mode: number; text: string; target?: string }> = {};
    await readArchiveMembers(at("tree.zip"), async (member) => {
      let text = "";
      for await (const piece of member.content()) text += piece.toString("utf8");
      seen[member.name] = {
        kind: member.kind,
        mode: member.mode,
        text,
        ...(member.linkTarget && { target: member.linkTarget }),
      };
    });
    expect(seen["pkg/__init__.py"]).toEqual({ kind: "file", mode: 0o644, text: "VALUE = 42\n" });
    expect(seen["bin/run.sh"]?.mode).toBe(0o755);
    expect(seen["bin/core-link.py"]).toMatchObject({ kind: "symlink", target: "../pkg/core.py" });
    expect(seen["data/café.txt"]?.text).toBe("crème\n");
  });

  it("refuses a zip member whose content does not match its CRC-32, once it is read", async () => {
    const bytes = readFileSync(at("tree.zip"));
    const damaged = Buffer.from(bytes);
    // "VALUE = 42" is stored deflated; flip a byte inside the first member's data (after its 30-byte header + name).
    const dataStart = 30 + damaged.readUInt16LE(26) + damaged.readUInt16LE(28);
    damaged[dataStart + 2] = (damaged[dataStart + 2] ?? 0) ^ 0x10;
    writeFileSync(at("damaged.zip"), damaged);
    await expect(
      readArchiveMembers(at("damaged.zip"), async (member) => {
        for await (const _ of member.content()) {
          // Read to be checked.
        }
      }),
    ).rejects.toMatchObject({ code: "CORRUPT" });
  });

  it("reads pax long names and hard links of a tar another tool wrote", async () => {
    const names: string[] = [];
    await readArchiveMembers(at("pax.tar"), async (member) => {
      names.push(`${member.kind}:${member.name}${member.linkTarget ? `->${member.linkTarget}` : ""}`);
    });
    expect(names).toEqual([`file:${longName}`, `hardlink:pkg/same.py->${longName}`]);
  });
});

describe("extractArchive", () => {
  it("unpacks a zip and a tar.gz with their modes and symlinks", async () => {
    for (const [archive, into, root] of [
      ["tree.zip", "from-zip", ""],
      ["tree.tar.gz", "from-tar", "environment"],
    ] as const) {
      await extractArchive(at(archive), at(into));
      const base = join(at(into), root);
      expect(listed(base)).toEqual(listed(at("tree")));
      expect(readFileSync(join(base, "pkg/core.py"))).toEqual(readFileSync(at("tree/pkg/core.py")));
      expect(statSync(join(base, "bin/run.sh")).mode & 0o777).toBe(0o755);
      expect(readlinkSync(join(base, "bin/core-link.py"))).toBe("../pkg/core.py");
    }
  });

  it("unpacks pax long names and hard links", async () => {
    await extractArchive(at("pax.tar"), at("from-pax"));
    expect(readFileSync(join(at("from-pax"), longName), "utf8")).toBe("long = True\n");
    expect(statSync(join(at("from-pax"), longName)).mode & 0o777).toBe(0o640);
    expect(statSync(join(at("from-pax"), "pkg/same.py")).ino).toBe(
      statSync(join(at("from-pax"), longName)).ino,
    );
  });

  it("refuses an entry climbing out before writing anything", async () => {
    await expect(extractArchive(at("traversal.zip"), at("from-traversal"))).rejects.toMatchObject({
      code: "UNSAFE",
      message: expect.stringMatching(/entry "sub\/\.\.\/\.\.\/escaped\.py": unsafe entry/),
    });
    expect(() => lstatSync(at("from-traversal"))).toThrow();
  });

  it("keeps a link to an interpreter outside only when told to, and never writes beneath a link", async () => {
    await expect(extractArchive(at("venv-like.zip"), at("venv-refused"))).rejects.toMatchObject({
      code: "UNSAFE",
    });
    await extractArchive(at("venv-like.zip"), at("venv-kept"), { linksLeaving: "keep" });
    expect(readlinkSync(join(at("venv-kept"), "environment/bin/python"))).toBe("/usr/bin/python3");
    await expect(
      extractArchive(at("through-link.zip"), at("through-link"), { linksLeaving: "keep" }),
    ).rejects.toMatchObject({ code: "UNSAFE", message: expect.stringContaining("environment/bin/planted") });
    expect(() => lstatSync(at("through-link"))).toThrow();
  });

  it("refuses an archive whose files add up to more than maxBytes before writing anything", async () => {
    const declared = readFileSync(at("tree/pkg/core.py")).length;
    await expect(
      extractArchive(at("tree.tar.gz"), at("too-big"), { maxBytes: declared }),
    ).rejects.toMatchObject({
      code: "UNSAFE",
      message: expect.stringMatching(/declares \d+ bytes of files, more than the \d+ allowed/),
    });
    expect(() => lstatSync(at("too-big"))).toThrow();
  });

  it("refuses an entry stored twice rather than overwrite the first", async () => {
    await expect(extractArchive(at("twice.zip"), at("twice"))).rejects.toMatchObject({
      code: "CORRUPT",
      message: expect.stringContaining("appears twice"),
    });
  });
});
