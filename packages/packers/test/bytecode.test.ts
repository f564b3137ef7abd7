import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { type Interpreter, probeInterpreter } from "@cluster-pack/python-env";
import { createShippableVenv, run, type Venv } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packVenv, packZipapp } from "../src/index.js";
import { execute } from "./clean-env.js";

let root: string;
let venv: Venv;
let interpreter: Interpreter;
let cacheTag: string;
const savedCache = process.env.XDG_CACHE_HOME;

const sha256Of = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-bytecode-"));
  process.env.XDG_CACHE_HOME = join(root, "cache");
  ({ venv } = await createShippableVenv(root));
  // A source that does not compile (Python 2 syntax, as in old test files): packed without bytecode.
  await writeFile(join(venv.sitePackages, "legacy_module.py"), 'print "hello"\n');
  interpreter = await probeInterpreter(venv.python);
  cacheTag = (await run(venv.python, ["-c", "import sys; print(sys.implementation.cache_tag)"])).trim();
}, 180_000);

afterAll(async () => {
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  await rm(root, { recursive: true, force: true });
});

describe("an archive packed with compiled bytecode", () => {
  it("holds unchecked-hash .pyc beside each source, which Python uses without reading the source", async () => {
    const archive = join(root, "env.tar.gz");
    await packVenv({ interpreter, output: archive, compileWith: venv.python });
    const unpacked = join(root, "unpacked");
    await mkdir(unpacked);
    await run("tar", ["-xzf", archive, "-C", unpacked]);
    const sitePackages = join(unpacked, relative(venv.prefix, venv.sitePackages));

    const pyc = join(sitePackages, "purepkg", "__pycache__", `__init__.${cacheTag}.pyc`);
    const header = await readFile(pyc);
    // PEP 552: the flags word after the magic number; 0b01 = hash-based, check_source off.
    expect(header.readUInt32LE(4)).toBe(0b01);
    expect(await readdir(sitePackages)).toContain("legacy_module.py");
    expect((await readdir(join(sitePackages, "__pycache__")).catch(() => [])).join()).not.toContain(
      "legacy_module",
    );

    // The source changes after unpacking; unchecked bytecode is still what runs, and nothing is rewritten.
    await writeFile(
      join(sitePackages, "purepkg", "__init__.py"),
      'raise SystemExit("the source was compiled")\n',
    );
    const before = await sha256Of(pyc);
    const result = await execute(join(unpacked, "bin", "python"), [
      "-c",
      "import purepkg; print(purepkg.VALUE)",
    ]);
    expect(result).toMatchObject({ code: 0, stdout: "wheel\n" });
    expect(await sha256Of(pyc)).toBe(before);
  }, 120_000);

  it("compiles each source once: a second pack takes the bytecode from the cache and gives the same bytes", async () => {
    const first = join(root, "first.tar.gz");
    const second = join(root, "second.tar.gz");
    await packVenv({ interpreter, output: first, compileWith: venv.python, sourceDateEpoch: 0 });
    const cached = await filesUnder(join(root, "cache", "cluster-pack", "bytecode"));
    expect(cached.length).toBeGreaterThan(0);
    expect(cached.every((file) => file.endsWith(".pyc"))).toBe(true);
    await packVenv({ interpreter, output: second, compileWith: venv.python, sourceDateEpoch: 0 });
    expect(await filesUnder(join(root, "cache", "cluster-pack", "bytecode"))).toEqual(cached);
    expect(await sha256Of(second)).toBe(await sha256Of(first));
  }, 120_000);

  it("ships bytecode in a zipapp: extracted with the dependencies, used as is, and part of pex_hash", async () => {
    const compiled = await packZipapp({
      interpreter,
      output: join(root, "compiled.pex"),
      compileWith: venv.python,
    });
    const plain = await packZipapp({ interpreter, output: join(root, "plain.pex") });
    expect(compiled.pexInfo.pex_hash).not.toBe(plain.pexInfo.pex_hash);

    const pexRoot = join(root, "pex-root");
    const result = await execute(
      venv.python,
      [compiled.output, "-B", "-c", "import purepkg; print(purepkg.__cached__)"],
      { env: { PEX_ROOT: pexRoot, PEX_INHERIT_PATH: "false" } },
    );
    const extracted = join(pexRoot, "deps", compiled.pexInfo.pex_hash);
    const pyc = join(extracted, "purepkg", "__pycache__", `__init__.${cacheTag}.pyc`);
    expect(result).toMatchObject({ code: 0, stdout: `${pyc}\n` });
    expect((await readFile(pyc)).readUInt32LE(4)).toBe(0b01);
  }, 120_000);
});
