// A venv whose sizes are known: a big package (MB of data), a test suite, a static library, docs and one file
// installed twice, from wheels built here. Shared by the size report's tests (its package, the façade, the CLI).
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  buildWheel,
  createVenv,
  debianPython,
  pipInstall,
  run,
  type Venv,
  type WheelSpec,
} from "./python.js";

/** Reproducible filler that does not compress to nothing (so archives stay realistic). */
function filler(seed: string, bytes: number): string {
  let text = "";
  let block = seed;
  while (text.length < bytes) {
    block = createHash("sha256").update(block).digest("base64");
    text += block;
  }
  return text.slice(0, bytes);
}

export const SHARED_CONTENT = filler("shared", 150_000);

// setuptools ships non-Python files only when package_data names them; setup.cfg adds that to testkit's setup.py.
const packageData = (globs: string) => `[options.package_data]\n* = ${globs}\n`;

export const SIZED_VENV_WHEELS: WheelSpec[] = [
  {
    name: "bigdatapackage",
    version: "1.0",
    files: {
      "setup.cfg": packageData("data/*.bin, lib/*.a, docs/*.txt"),
      "bigdatapackage/__init__.py": "NAME = 'big'\n",
      "bigdatapackage/data/table0.bin": filler("t0", 1_500_000),
      "bigdatapackage/data/table1.bin": filler("t1", 1_200_000),
      "bigdatapackage/data/table2.bin": filler("t2", 900_000),
      "bigdatapackage/data/shared.bin": SHARED_CONTENT,
      "bigdatapackage/tests/__init__.py": "",
      "bigdatapackage/tests/test_big.py": `def test_big():\n    assert True\n# ${filler("tb", 40_000)}\n`,
      "bigdatapackage/lib/libbig.a": filler("archive", 250_000),
      "bigdatapackage/docs/guide.txt": filler("guide", 60_000),
    },
  },
  {
    name: "midpkg",
    version: "0.5",
    files: {
      "setup.cfg": packageData("*.bin"),
      "midpkg/__init__.py": "",
      "midpkg/weights.bin": filler("weights", 700_000),
      "midpkg/extra/__init__.py": `EXTRA = ${JSON.stringify(filler("extra", 200_000))}\n`,
    },
  },
  {
    name: "smallpkg",
    version: "0.1",
    files: {
      "setup.cfg": packageData("*.bin"),
      "smallpkg/__init__.py": "VALUE = 1\n",
      "smallpkg/shared.bin": SHARED_CONTENT,
      "smallpkg/test/__init__.py": "",
      "smallpkg/test/test_small.py": `def test_small():\n    assert True\n# ${filler("ts", 20_000)}\n`,
    },
  },
];

/**
 * The venv under `root`, with only the three packages: pip and setuptools uninstalled once they have installed the
 * rest, so the sizes are those of the packages this file describes.
 */
export async function createSizedVenv(root: string): Promise<Venv> {
  const wheels = join(root, "wheels");
  for (const spec of SIZED_VENV_WHEELS) await buildWheel(spec, wheels);
  const venv = await createVenv(debianPython, join(root, "venv"));
  await pipInstall(
    venv,
    SIZED_VENV_WHEELS.map((spec) => spec.name),
    [wheels],
  );
  await run(venv.python, ["-m", "pip", "uninstall", "--yes", "--quiet", "setuptools", "pip"]);
  return venv;
}

/** A file of the venv as the test sees it on disk: path relative to site-packages, its distribution, bytes, sha256. */
export interface InstalledFile {
  path: string;
  package: string;
  size: number;
  sha256: string;
}

/**
 * Every file the venv's RECORDs list inside site-packages, measured on disk (the test's own reading, independent
 * of the product's): the fixture's names hold no comma or quote, so a RECORD line splits on commas.
 */
export async function installedFiles(venv: Venv): Promise<InstalledFile[]> {
  const files: InstalledFile[] = [];
  for (const directory of await readdir(venv.sitePackages)) {
    if (!directory.endsWith(".dist-info")) continue;
    const name = directory.slice(0, directory.indexOf("-"));
    const record = await readFile(join(venv.sitePackages, directory, "RECORD"), "utf8");
    for (const line of record.split("\n")) {
      const path = line.split(",")[0];
      if (!path || path.startsWith("..")) continue;
      const onDisk = join(venv.sitePackages, path);
      const content = await readFile(onDisk).catch(() => undefined);
      if (!content) continue;
      files.push({
        path,
        package: name,
        size: (await stat(onDisk)).size,
        sha256: createHash("sha256").update(content).digest("hex"),
      });
    }
  }
  return files;
}
