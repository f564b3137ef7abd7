import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeInterpreter, readDistributions } from "@cluster-pack/python-env";
import { machinePython, pythonFacts, run } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packZipapp } from "../src/index.js";
import { execute } from "./run-archive.js";

let root: string;

/** A distribution of 66,000 one-line modules (with a RECORD carrying hashes), written by Python for speed. */
const generator = `import base64, hashlib, os, sys
site = sys.argv[1]
record = []
for d in range(66):
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

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-zip64-"));
}, 10_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("an environment beyond zipimport's limits (> 65,535 entries)", () => {
  it("runs on the machine's Python: before 3.13 through a /bin/sh preamble that starts the bootstrap with zipfile", async () => {
    const site = join(root, "site-packages");
    await run(machinePython, ["-c", generator, site]);
    const interpreter = await probeInterpreter(machinePython);
    const { distributions } = await readDistributions([site]);
    const output = join(root, "big.pex");
    const packed = await packZipapp({ interpreter, distributions, output, compressionLevel: 0 });
    expect(packed.zip64).toBe(true);
    expect(packed.entries).toBeGreaterThan(65_535);
    // zipimport reads ZIP64 from Python 3.13 on: a plain shebang then, the preamble before.
    const python = await pythonFacts(machinePython);
    const [major = 0, minor = 0] = python.version.split(".").map(Number);
    const firstLine = major > 3 || minor >= 13 ? `#!/usr/bin/env ${python.versionedName}\n` : "#!/bin/sh\n";
    expect(readFileSync(output).subarray(0, firstLine.length).toString()).toBe(firstLine);
    const outcome = await execute(
      output,
      ["-c", "import sys, bigpkg.p65.m999 as m; print(m.VALUE, sys.argv)", "x"],
      {
        env: { PEX_ROOT: join(root, "pex-root") },
      },
    );
    expect(outcome).toMatchObject({ code: 0, stdout: "65999 ['-c', 'x']\n" });
  }, 120_000);

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
    const outcome = await execute(machinePython, [
      "-B",
      "-c",
      check,
      archive,
      join(import.meta.dirname, "..", "bootstrap", "__main__.py"),
      target,
    ]);
    expect(outcome).toMatchObject({ code: 0, stdout: "True True\n" });
    await rm(target, { recursive: true, force: true });
  }, 120_000);
});
