import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listTar, listZip } from "@cluster-pack/archive";
import { type Interpreter, probeInterpreter, readDistributions } from "@cluster-pack/python-env";
import {
  buildWheel,
  createCondaStylePrefix,
  createVenv,
  machinePython,
  pipInstall,
  run,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  excludeMatcher,
  isPackerError,
  normalizeExcludePatterns,
  type PackZipappOptions,
  packConda,
  packVenv,
  packZipapp,
} from "../src/index.js";
import { execute } from "./clean-env.js";

let root: string;
let venv: Venv;
let venvInterpreter: Interpreter;
let conda: Venv;
let condaInterpreter: Interpreter;
let zipappBase: Omit<PackZipappOptions, "output">;

// Text that deflate at level 9 packs tighter than at level 1: numbers without a short period.
const data = `DATA = [${Array.from({ length: 40_000 }, (_, i) => (i * 7919) % 100_003).join(", ")}]\n`;
const wheelFiles = {
  "sizepkg/__init__.py": 'VALUE = "kept"\n',
  "sizepkg/numbers_data.py": data,
  "sizepkg/tests/__init__.py": "",
  "sizepkg/tests/test_value.py": "def test_value():\n    assert True\n",
};
const importKept = "import sizepkg; print(sizepkg.VALUE)";
const exclude = ["*/tests/*", "*.a"];

async function unpack(archive: string, into: string): Promise<string> {
  await mkdir(into, { recursive: true });
  if (archive.endsWith(".tar.gz")) await run("tar", ["-xzf", archive, "-C", into]);
  else await run("unzip", ["-q", archive, "-d", into]);
  return into;
}

const zipNames = async (archive: string) => (await listZip(archive)).entries.map((entry) => entry.name);
const tarNames = async (archive: string) => (await listTar(archive)).map((entry) => entry.name);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-size-controls-"));
  const wheels = join(root, "wheels");
  await buildWheel({ name: "sizepkg", version: "1.0", files: wheelFiles }, wheels);
  [venv, conda] = await Promise.all([
    createVenv(machinePython, join(root, "venv")),
    createCondaStylePrefix(join(root, "miniconda", "envs", "sized"), [], undefined, { recordPython: true }),
  ]);
  await Promise.all([pipInstall(venv, ["sizepkg"], [wheels]), pipInstall(conda, ["sizepkg"], [wheels])]);
  // A static library no RECORD lists, as some wheels leave behind: only the tree-walking packers see it.
  for (const environment of [venv, conda])
    await writeFile(join(environment.sitePackages, "sizepkg", "libsize.a"), "!<arch>\n");
  [venvInterpreter, condaInterpreter] = await Promise.all([
    probeInterpreter(venv.python),
    probeInterpreter(conda.python),
  ]);
  const { distributions } = await readDistributions(venvInterpreter.sitePackages);
  zipappBase = {
    interpreter: venvInterpreter,
    distributions: distributions.filter((d) => d.normalizedName === "sizepkg"),
  };
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("exclude patterns", () => {
  it("match as Python's fnmatch does, '*' across '/', and a matching directory covers what it holds", () => {
    const excluded = excludeMatcher(["*/tests/*", "*.a", "lib/*/site-packages/big", "[!a]b?"]);
    expect(excluded("numpy/tests/test_a.py")).toBe(true);
    expect(excluded("lib/python3.11/site-packages/numpy/core/tests/test_b.py")).toBe(true);
    expect(excluded("tests/conftest.py")).toBe(false);
    expect(excluded("numpy.libs/libgfortran.a")).toBe(true);
    expect(excluded("lib/python3.11/site-packages/big/data/x.bin")).toBe(true);
    expect(excluded("lib/python3.11/site-packages/bigger/x.py")).toBe(false);
    expect(excluded("xbc")).toBe(true);
    expect(excluded("abc")).toBe(false);
  });

  it("normalize to one sorted list, each pattern once, so equal intent compares equal", () => {
    expect(normalizeExcludePatterns(["*.a", "./*/tests/", "*.a", "*/tests"])).toEqual(["*.a", "*/tests"]);
  });

  it("refuse an absolute pattern in one line", () => {
    expect(() => excludeMatcher(["/usr/lib/*"])).toThrow(
      /"\/usr\/lib\/\*" is absolute: patterns match paths inside the archive/,
    );
  });
});

describe("a zipapp and an unpack layout packed with exclude", () => {
  it("leave out the files matching under .deps/, keep the bootstrap and run", async () => {
    const pex = join(root, "excluded.pex");
    const packed = await packZipapp({ ...zipappBase, output: pex, exclude: ["*/tests/*", "*/tests"] });
    const names = await zipNames(pex);
    expect(names).toContain(".deps/sizepkg/__init__.py");
    expect(names.filter((name) => name.includes("/tests"))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(["__main__.py", "PEX-INFO"]));
    expect(packed.pexInfo.distributions).toHaveProperty("sizepkg");
    const outcome = await execute(pex, ["-c", importKept], { env: { PEX_ROOT: join(root, "pex-root") } });
    expect(outcome).toMatchObject({ code: 0, stdout: "kept\n" });

    const unpackLayout = join(root, "excluded.pex.zip");
    await packZipapp({ ...zipappBase, output: unpackLayout, layout: "unpack", exclude });
    expect((await zipNames(unpackLayout)).filter((name) => name.includes("/tests/"))).toEqual([]);
    const pyenv = await unpack(unpackLayout, join(root, "unpacked", "pyenv"));
    expect(await execute(join(pyenv, "__main__.py"), ["-c", importKept])).toMatchObject({
      code: 0,
      stdout: "kept\n",
    });
  });

  it("never leave out the bootstrap, whatever the patterns", async () => {
    const pex = join(root, "all-excluded.pex");
    await packZipapp({ ...zipappBase, output: pex, exclude: ["*"] });
    expect((await zipNames(pex)).filter((name) => name !== ".deps/")).toEqual(["__main__.py", "PEX-INFO"]);
  });
});

describe("compression of a zipapp", () => {
  it("stores every entry with level 0 (store), and best (9) is not bigger than fast (1)", async () => {
    const [stored, fast, best] = await Promise.all(
      [0, 1, 9].map((compressionLevel) =>
        packZipapp({ ...zipappBase, output: join(root, `level-${compressionLevel}.pex`), compressionLevel }),
      ),
    );
    const { entries } = await listZip(stored?.output ?? "");
    expect(entries.map((entry) => entry.method)).toEqual(entries.map(() => 0));
    expect(best?.bytes).toBeLessThanOrEqual(fast?.bytes ?? 0);
    expect(fast?.bytes).toBeLessThan(stored?.bytes ?? 0);
  });
});

describe("a venv archive packed with exclude", () => {
  for (const format of ["tar.gz", "zip"] as const) {
    it(`leaves out the files matching inside the environment and still runs (${format})`, async () => {
      const archive = join(root, `venv-excluded.${format}`);
      // bin/activate matches, but ours (relocatable) always ships.
      await packVenv({
        interpreter: venvInterpreter,
        output: archive,
        exclude: [...exclude, "bin/activate"],
      });
      const names = format === "zip" ? await zipNames(archive) : await tarNames(archive);
      const site = `lib/python${venvInterpreter.version.split(".").slice(0, 2).join(".")}/site-packages`;
      expect(names).toContain(`${site}/sizepkg/__init__.py`);
      expect(names.filter((name) => name.includes("/tests/") || name.endsWith(".a"))).toEqual([]);
      expect(names).toContain("bin/activate");
      const environment = await unpack(archive, join(root, `venv-${format}`, "environment"));
      expect(await execute(join(environment, "bin", "python"), ["-c", importKept])).toMatchObject({
        code: 0,
        stdout: "kept\n",
      });
    });
  }

  it("stores a zip's entries with level 0, and best (9) is not bigger than fast (1)", async () => {
    const pack = (compressionLevel: number) =>
      packVenv({
        interpreter: venvInterpreter,
        output: join(root, `venv-level-${compressionLevel}.zip`),
        compressionLevel,
      });
    const stored = await pack(0);
    const fast = await pack(1);
    const best = await pack(9);
    const { entries } = await listZip(stored.output);
    expect(entries.filter((entry) => entry.method !== 0)).toEqual([]);
    expect(best.bytes).toBeLessThanOrEqual(fast.bytes);
  });

  it("refuses store for a .tar.gz in one line, before writing anything", async () => {
    const archive = join(root, "venv-stored.tar.gz");
    const failure = await packVenv({
      interpreter: venvInterpreter,
      output: archive,
      compressionLevel: 0,
    }).catch((error: unknown) => error);
    expect(isPackerError(failure, "INVALID_ARGUMENT")).toBe(true);
    expect((failure as Error).message).toMatch(
      /store \(level 0\) applies to zip archives: a \.tar\.gz is always/,
    );
    expect((failure as Error).message).not.toContain("\n");
    expect(existsSync(archive)).toBe(false);
  });
});

describe("a conda archive packed with exclude", () => {
  it("leaves out the files matching, reports none of them gone, keeps conda-unpack and runs", async () => {
    const archive = join(root, "conda-excluded.tar.gz");
    const version = condaInterpreter.version.split(".").slice(0, 2).join(".");
    const packed = await packConda({
      interpreter: condaInterpreter,
      output: archive,
      // The python record lists the stdlib's `lib/python3.X/unittest`: excluded, not "gone".
      exclude: [...exclude, `lib/python${version}/unittest`, "bin/conda-unpack"],
    });
    const names = await tarNames(archive);
    expect(names.filter((name) => name.includes("/tests/") || name.endsWith(".a"))).toEqual([]);
    expect(names.filter((name) => name.startsWith(`lib/python${version}/unittest`))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(["bin/conda-unpack", "bin/activate"]));
    expect(packed.missing).toEqual([]);
    const environment = await unpack(archive, join(root, "conda", "environment"));
    expect(await execute(join(environment, "bin", "python"), ["-c", importKept])).toMatchObject({
      code: 0,
      stdout: "kept\n",
    });
    expect((await execute(join(environment, "bin", "conda-unpack"), [])).code).toBe(0);
  });
});
