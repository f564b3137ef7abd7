import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { listZip, verifyZip } from "@cluster-pack/archive";
import { type Distribution, probeInterpreter, readDistributions } from "@cluster-pack/python-env";
import { debianPython, machinePython, run } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackedZipapp, packZipapp } from "../src/index.js";
import { appendTo, launcherZip } from "../src/zipapp-launcher.js";
import { execute } from "./run-archive.js";

let root: string;
let site: string;
let distributions: Distribution[];

const bootstrap = join(import.meta.dirname, "..", "bootstrap", "__main__.py");

/** A distribution of 70,000 one-line modules (with a RECORD carrying hashes), written by Python for speed. */
const generator = `import base64, hashlib, os, sys
site = sys.argv[1]
record = []
for d in range(70):
    package = os.path.join(site, "bigpkg", "p%02d" % d)
    os.makedirs(package)
    for i in range(1000):
        name = "__init__.py" if i == 0 else "m%03d.py" % i
        data = ("VALUE = %d\\n" % (d * 1000 + i)).encode()
        with open(os.path.join(package, name), "wb") as f:
            f.write(data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("bigpkg/p%02d/%s,sha256=%s,%d" % (d, name, digest, len(data)))
open(os.path.join(site, "bigpkg", "__init__.py"), "w").close()
record.append("bigpkg/__init__.py,,")
info = os.path.join(site, "bigpkg-1.0.dist-info")
os.makedirs(info)
with open(os.path.join(info, "METADATA"), "w") as f:
    f.write("Metadata-Version: 2.1\\nName: bigpkg\\nVersion: 1.0\\n")
record += ["bigpkg-1.0.dist-info/METADATA,,", "bigpkg-1.0.dist-info/RECORD,,"]
with open(os.path.join(info, "RECORD"), "w") as f:
    f.write("\\n".join(record) + "\\n")
`;

/** A pyenv interpreter of this minor version, when the machine has one. */
function pyenvPython(minor: string): string | undefined {
  const versions = "/root/.pyenv/versions";
  const version = existsSync(versions)
    ? readdirSync(versions).find((name) => name.startsWith(`${minor}.`))
    : undefined;
  const python = version && join(versions, version, "bin", `python${minor}`);
  return python && existsSync(python) ? python : undefined;
}

/** Pythons before 3.13, whose zipimport cannot read ZIP64: the case the launcher zip exists for. */
const interpreters = [
  { name: "Debian's python3", python: debianPython },
  { name: "pyenv 3.8", python: pyenvPython("3.8") },
  { name: "pyenv 3.12", python: pyenvPython("3.12") },
];

const packed = new Map<string, Promise<PackedZipapp>>();

/** The environment packed for `python` (its shebang names that interpreter's python3.X), once per interpreter. */
function packFor(python: string): Promise<PackedZipapp> {
  let pack = packed.get(python);
  if (!pack) {
    pack = (async () => {
      const version = await run(python, ["-c", "import platform; print(platform.python_version())"]);
      // The environment is pure Python: the target's version only names the shebang. (python-env probes 3.9+.)
      const interpreter = { ...(await probeInterpreter(debianPython)), version: version.trim() };
      return packZipapp({
        interpreter,
        distributions,
        output: join(root, `big-${interpreter.version}.pex`),
        compressionLevel: 0,
      });
    })();
    packed.set(python, pack);
  }
  return pack;
}

/** Relative paths of the files under `directory`, sorted; bytecode that imports wrote there left out. */
async function filesUnder(directory: string): Promise<string[]> {
  return (await readdir(directory, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && !entry.parentPath.endsWith("__pycache__"))
    .map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1))
    .sort();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-zip64-"));
  site = join(root, "site-packages");
  await run(machinePython, ["-c", generator, site]);
  ({ distributions } = await readDistributions([site]));
}, 60_000);

afterAll(async () => {
  // Three extractions of 70,000 files each.
  await rm(root, { recursive: true, force: true });
}, 120_000);

describe("a zipapp beyond zipimport's limits (> 65,535 entries)", () => {
  const probe = ["-c", "import sys, bigpkg.p69.m999 as m; print(m.VALUE, sys.argv)", "x"];

  for (const { name, python } of interpreters) {
    it.skipIf(!python)(
      `runs as 'python env.pex' and as './env.pex' on ${name}: extracts every file once, then starts from the launcher`,
      async () => {
        const interpreter = python ?? "";
        const pex = await packFor(interpreter);
        expect(pex.zip64).toBe(true);
        expect(pex.entries).toBeGreaterThan(70_000);
        const pexRoot = join(root, `pex-root-${pex.pexInfo.build_properties.python_version}`);
        const env = { PEX_ROOT: pexRoot, PEX_VERBOSE: "1" };
        const first = await execute(interpreter, [pex.output, ...probe], { env });
        expect(first).toMatchObject({ code: 0, stdout: "69999 ['-c', 'x']\n" });
        expect(first.stderr).toMatch(/^pex: extracted /m);
        // Every file of the environment zip, byte for byte, read through zipfile on this Python.
        const extracted = join(pexRoot, "deps", pex.pexInfo.pex_hash);
        expect(await filesUnder(extracted)).toEqual(await filesUnder(site));
        for (const file of ["bigpkg/p00/__init__.py", "bigpkg/p42/m421.py", "bigpkg-1.0.dist-info/RECORD"])
          expect(readFileSync(join(extracted, file))).toEqual(readFileSync(join(site, file)));
        // The shebang names python3.X: the interpreter's directory first on PATH, as a cluster node's would be.
        const path = `${dirname(interpreter)}:${process.env.PATH ?? ""}`;
        const again = await execute(pex.output, probe, { env: { ...env, PATH: path } });
        expect(again).toMatchObject({ code: 0, stdout: "69999 ['-c', 'x']\n" });
        expect(again.stderr).not.toMatch(/extracted/);
      },
      120_000,
    );
  }

  it("shows zip tools its launcher, and our reader the environment zip before it", async () => {
    const pex = await packFor(debianPython);
    const launcher = ["PEX-INFO", "__main__.py"];
    const unzipped = await run("unzip", ["-l", pex.output]);
    expect(unzipped).toMatch(/\s2 files\n$/);
    for (const name of launcher) expect(unzipped).toContain(` ${name}\n`);
    const listed = await run(debianPython, ["-m", "zipfile", "-l", pex.output]);
    expect(
      listed
        .trim()
        .split("\n")
        .slice(1)
        .map((line) => line.split(" ")[0]),
    ).toEqual(launcher);
    const listing = await listZip(pex.output);
    const [major, minor] = pex.pexInfo.build_properties.python_version.split(".");
    const shebang = `#!/usr/bin/env python${major}.${minor}\n`;
    expect(listing).toMatchObject({ zip64: true, prefixBytes: shebang.length });
    expect(listing.entries).toHaveLength(pex.entries);
    expect(listing.entries.map((entry) => entry.name)).toContain(".deps/bigpkg/p69/m999.py");
    expect(listing.appended?.entries.map((entry) => entry.name)).toEqual(launcher);
    expect(listing.appended?.zip64).toBe(false);
    expect((await verifyZip(pex.output)).entries).toBe(pex.entries + 2);
  }, 120_000);
});

describe("a zipapp larger than 4 GiB", () => {
  it("starts on Pythons before 3.13: its launcher counts offsets from its own start", async () => {
    // The environment zip holds a 4.1 GiB stored member outside .deps/ (never extracted), written as a hole in a
    // sparse file, so the test neither writes nor extracts gigabytes; the launcher is ours, appended after it.
    const archive = join(root, "huge.pex");
    const writer = [
      "import io, os, sys, zipfile",
      "archive, bootstrap = sys.argv[1:3]",
      "block = bytes(64 << 20)",
      "class Sparse(io.FileIO):",
      "    def write(self, data):",
      "        if data is block:",
      "            self.seek(len(data), 1)",
      "            return len(data)",
      "        return super().write(data)",
      "with Sparse(archive, 'w') as f:",
      "    f.write(b'#!/usr/bin/env python3\\n')",
      "    with zipfile.ZipFile(f, 'w') as z:",
      "        z.writestr('__main__.py', open(bootstrap).read())",
      "        z.writestr('.deps/small.py', 'VALUE = 42\\n')",
      "        with z.open('padding.bin', 'w', force_zip64=True) as member:",
      "            for _ in range(66): member.write(block)",
      "        z.writestr('PEX-INFO', '{\"pex_hash\": \"huge\"}')",
      "print(os.path.getsize(archive))",
    ].join("\n");
    const payloadBytes = Number(await run(machinePython, ["-c", writer, archive, bootstrap]));
    expect(payloadBytes).toBeGreaterThan(2 ** 32);
    const launcher = await launcherZip(
      [
        { kind: "buffer", name: "__main__.py", data: readFileSync(bootstrap), mode: 0o755 },
        { kind: "buffer", name: "PEX-INFO", data: Buffer.from('{"pex_hash": "huge"}') },
      ],
      payloadBytes,
      { level: 1 },
    );
    await appendTo(archive, launcher, archive);
    const listing = await listZip(archive);
    expect(listing.zip64).toBe(true);
    expect(listing.entries.map((entry) => entry.name)).toContain("padding.bin");
    expect(listing.appended?.entries[0]?.offset).toBe(payloadBytes);
    for (const python of [pyenvPython("3.8"), debianPython].filter((p): p is string => p !== undefined)) {
      const outcome = await execute(python, [archive, "-c", "import small; print(small.VALUE)"], {
        env: { PEX_ROOT: join(root, "huge-root") },
      });
      expect(outcome).toMatchObject({ code: 0, stdout: "42\n", stderr: "" });
    }
  }, 60_000);

  it("extracts a member larger than 2 GiB, which one read() cannot return on Linux", async () => {
    // A 2,100 MiB stored member (torch's CUDA libraries are this size), extracted by the bootstrap's own _extract.
    const archive = join(root, "huge-member.zip");
    const target = join(root, "huge-extracted");
    const check = [
      "import importlib.util, os, sys, zipfile",
      "archive, bootstrap, target = sys.argv[1:4]",
      "block = bytes(range(256)) * 4096",
      "with zipfile.ZipFile(archive, 'w') as z:",
      "    with z.open('.deps/huge.bin', 'w', force_zip64=True) as f:",
      "        for _ in range(2100): f.write(block)",
      "spec = importlib.util.spec_from_file_location('bootstrap', bootstrap)",
      "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)",
      "module._extract(archive, target)",
      "os.unlink(archive)",
      "path = os.path.join(target, 'huge.bin')",
      "with open(path, 'rb') as f: f.seek(2099 << 20); tail = f.read()",
      "print(os.path.getsize(path) == 2100 << 20, tail == block)",
    ].join("\n");
    // -B: loading the bootstrap as a module must not leave bytecode in the package's bootstrap/ directory.
    const outcome = await execute(machinePython, ["-B", "-c", check, archive, bootstrap, target]);
    expect(outcome).toMatchObject({ code: 0, stdout: "True True\n" });
    await rm(target, { recursive: true, force: true });
  }, 120_000);
});
