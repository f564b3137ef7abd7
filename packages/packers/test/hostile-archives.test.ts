import { copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machinePython, run } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execute } from "./run-archive.js";

// Zipapps crafted byte by byte around the real bootstrap, as a damaged or tampered download would reach a node.
// The 1 GiB members are one full-flushed deflate block of 1 MiB of zeros repeated: about 1 MB to store, built in
// a second, and the bootstrap must refuse them early (bounded), so each run stays well under a few seconds.
const builder = `
import os, struct, sys, zlib

bootstrap = open(sys.argv[2], "rb").read()
out = sys.argv[1]
LINK = 0o120777
FILE = 0o100644

def deflated(data):
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()

def entry(name, content=b"", mode=FILE):
    return {"name": name, "raw": deflated(content), "crc": zlib.crc32(content), "size": len(content), "mode": mode}

def zeros(gib_chunks):
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    raw = block * gib_chunks + zlib.compressobj(6, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(gib_chunks):
        crc = zlib.crc32(bytes(1 << 20), crc)
    return {"raw": raw, "crc": crc, "size": gib_chunks << 20, "mode": FILE}

def write(path, pex_hash, members, patch=None):
    members = [entry("__main__.py", bootstrap), entry("PEX-INFO", b'{"pex_hash": "%s"}' % pex_hash.encode())] + members
    body, directory = bytearray(), bytearray()
    for member in members:
        name = member["name"].encode()
        offset = member.get("offset", len(body))
        fields = (20, 0, 8, 0, 0x21, member["crc"], len(member["raw"]), member["size"], len(name), 0)
        if "offset" not in member:
            body += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + name + member["raw"]
        declared = member.get("declared", member["size"])
        central = (0x02014B50, 0x031E, 20, 0, 8, 0, 0x21, member["crc"], len(member["raw"]), declared, len(name),
                   0, 0, 0, 0, member["mode"] << 16, offset)
        directory += struct.pack("<IHHHHHHIIIHHHHHII", *central) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0)
    with open(os.path.join(out, path), "wb") as archive:
        archive.write(b"#!/usr/bin/env python3\\n")
        archive.write(body + directory + end)

def module(name, text="VALUE = 1\\n"):
    return entry(".deps/" + name, text.encode())

def link(name, target):
    return entry(".deps/" + name, target.encode(), LINK)

gib = zeros(1024)
padding = [module("pad%d.py" % i) for i in range(70)]  # 64 files and more are extracted on several threads
write("chain.pex", "chain", [module("ok.py"), link("l1", "."), link("l2", "l1/.."), link("l3", "l2/x")])
write("late-link.pex", "late-link", [link("a", "b/.."), link("b", ".")])
write("beneath-link.pex", "beneath-link", [link("l", "pkg"), module("pkg/__init__.py"), module("l/x.py")])
write("absolute-link.pex", "absolute-link", [link("etc", "/etc")])
write("lying-small.pex", "lying-small", padding + [dict(gib, name=".deps/bomb.bin", declared=100)])
write("lying-large.pex", "lying-large", padding + [dict(gib, name=".deps/bomb.bin", declared=9 << 20)])
write("honest-bomb.pex", "honest-bomb", [dict(gib, name=".deps/zeros.bin")])
write("overlap.pex", "overlap", [module("a.py"), dict(module("b.py"), offset=0)])
write("venv-like.pex", "venv-like", [
    module("pkg/__init__.py", "ORIGIN = 'pkg'\\n"),
    link("alias", "pkg"),
    link("pkg/again", "."),
    link("pkg/up", "../pkg"),
    module("lib/real.py", "NAME = 'real'\\n"),
    link("lib64", "lib"),
    link("lib3", "lib64"),
    link("dangling", "nowhere"),
])
`;

let root: string;

beforeAll(async () => {
  // Real: conda-unpack names its environment by its real path.
  root = await realpath(await mkdtemp(join(tmpdir(), "cp-hostile-")));
  await run(machinePython, [
    "-c",
    builder,
    root,
    join(import.meta.dirname, "..", "bootstrap", "__main__.py"),
  ]);
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

// Runs the archive from a small Python parent that reports the child's peak resident memory (KiB on Linux).
const measured = `
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as report:
    report.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
`;

let runs = 0;

async function launch(name: string, env: NodeJS.ProcessEnv = {}, code = "pass") {
  const archive = join(root, name);
  // A fresh PEX_ROOT each run: nothing extracted before takes the fast path.
  const pexRoot = join(root, `root-${++runs}`);
  const report = join(root, `rss-${runs}`);
  const outcome = await execute(machinePython, ["-c", measured, report, machinePython, archive, "-c", code], {
    env: { PEX_ROOT: pexRoot, ...env },
  });
  const peakBytes = Number(await readFile(report, "utf8")) * 1024;
  const left = async () => (await readdir(join(pexRoot, "deps"))).filter((entry) => !entry.endsWith(".lock"));
  return { ...outcome, archive, peakBytes, left };
}

async function expectRefused(name: string, line: string, env: NodeJS.ProcessEnv = {}) {
  const outcome = await launch(name, env);
  expect(outcome.code).not.toBe(0);
  expect(outcome.stderr.trim().split("\n")).toEqual([`${outcome.archive}: ${line}`]);
  expect(await outcome.left()).toEqual([]);
  expect(outcome.peakBytes).toBeLessThan(256 << 20);
}

describe("the bootstrap refuses hostile symlinks", () => {
  it("refuses a chain of links that each look inside but resolve outside", async () => {
    await expectRefused(
      "chain.pex",
      "refusing archive entry '.deps/l2': symlink to 'l1/..' resolves outside the extraction directory",
    );
  });

  it("refuses a link that a later link sends outside", async () => {
    await expectRefused(
      "late-link.pex",
      "refusing archive entry '.deps/a': symlink to 'b/..' resolves outside the extraction directory",
    );
  });

  it("refuses an entry beneath a symlink of the archive before writing anything", async () => {
    await expectRefused(
      "beneath-link.pex",
      "refusing archive entry '.deps/l/x.py': it lies beneath the symlink '.deps/l'",
    );
  });

  it("refuses an absolute symlink", async () => {
    await expectRefused(
      "absolute-link.pex",
      "refusing archive entry '.deps/etc': symlink to '/etc' points outside the extraction directory",
    );
  });

  it("extracts a venv's inside links (chains, loops to a parent, dangling) and imports through them", async () => {
    const outcome = await launch(
      "venv-like.pex",
      {},
      "import alias, lib3.real, pkg.again.up as up; print(alias.ORIGIN, lib3.real.NAME, up.ORIGIN)",
    );
    expect(outcome).toMatchObject({ code: 0, stdout: "pkg real pkg\n", stderr: "" });
  });
});

describe("the bootstrap bounds what an archive inflates to", () => {
  it("stops a small member that inflates past its declared size at once", async () => {
    await expectRefused(
      "lying-small.pex",
      "refusing archive entry '.deps/bomb.bin': it inflates past its declared 100 bytes (archive damaged or tampered with)",
    );
  });

  it("stops a streamed member that inflates past its declared size at once", async () => {
    await expectRefused(
      "lying-large.pex",
      "refusing archive entry '.deps/bomb.bin': it inflates past its declared 9.0 MiB (archive damaged or tampered with)",
    );
  });

  it("refuses a large member compressed more than 200:1 before inflating it", async () => {
    await expectRefused(
      "honest-bomb.pex",
      "refusing archive entry '.deps/zeros.bin': it inflates 1.0 GiB from 1.0 MiB, more than 200:1 (set CLUSTER_PACK_MAX_COMPRESSION_RATIO to allow more)",
    );
  });

  it("refuses files adding up to more than CLUSTER_PACK_MAX_EXTRACT_BYTES, whatever the ratio allows", async () => {
    await expectRefused(
      "honest-bomb.pex",
      "refusing to extract: its files add up to 1.0 GiB, more than 512.0 MiB (set CLUSTER_PACK_MAX_EXTRACT_BYTES to allow more)",
      { CLUSTER_PACK_MAX_COMPRESSION_RATIO: "2000", CLUSTER_PACK_MAX_EXTRACT_BYTES: String(512 << 20) },
    );
  });

  it("refuses members whose bytes overlap, one compressed stream counted twice", async () => {
    await expectRefused(
      "overlap.pex",
      "refusing archive entry '.deps/b.py': its bytes overlap those of '__main__.py'",
    );
  });

  it("refuses a limit that is not a positive whole number, naming it", async () => {
    const outcome = await launch("venv-like.pex", { CLUSTER_PACK_MAX_EXTRACT_BYTES: "64G" });
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr).toBe(
      "CLUSTER_PACK_MAX_EXTRACT_BYTES must be a positive whole number, not '64G'\n",
    );
  });
});

describe("conda-unpack", () => {
  it("refuses a prefix record leading outside the environment before rewriting any file", async () => {
    const environment = join(root, "conda-env");
    const state = join(environment, "share", "cluster-pack");
    await mkdir(join(environment, "bin"), { recursive: true });
    await mkdir(state, { recursive: true });
    await copyFile(
      join(import.meta.dirname, "..", "relocation", "conda-unpack.py"),
      join(environment, "bin", "conda-unpack"),
    );
    const placeholder = "/opt/placeholder/env";
    await writeFile(join(environment, "inside.txt"), `prefix=${placeholder}\n`);
    await writeFile(join(root, "outside.txt"), `prefix=${placeholder}\n`);
    const records = [
      ["inside.txt", placeholder, "text"],
      ["../outside.txt", placeholder, "text"],
    ];
    await writeFile(join(state, "prefix-records.json"), JSON.stringify({ records }));
    const outcome = await execute(machinePython, [join(environment, "bin", "conda-unpack")]);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toBe(
      `conda-unpack: '../outside.txt' in ${join(state, "prefix-records.json")} leads outside ${environment}: the archive is damaged, repack the environment\n`,
    );
    expect(await readFile(join(environment, "inside.txt"), "utf8")).toBe(`prefix=${placeholder}\n`);
    expect(await readFile(join(root, "outside.txt"), "utf8")).toBe(`prefix=${placeholder}\n`);
  });
});
