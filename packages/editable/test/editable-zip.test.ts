import { chmod, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machinePython, run } from "@cluster-pack/testkit";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ImportableTopLevel, writeTopLevelZip, zipTopLevel } from "../src/index.js";

let root: string;
let mypkg: ImportableTopLevel;
let namespace: ImportableTopLevel;
let module: ImportableTopLevel;

async function writeTree(base: string, files: Record<string, string>) {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(base, path, ".."), { recursive: true });
    await writeFile(join(base, path), content);
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-editable-zip-"));
  await writeTree(join(root, "src"), {
    "mypkg/__init__.py": "from .core import answer\n",
    "mypkg/core.py": "def answer():\n    return 42\n",
    "mypkg/sub/__init__.py": "NAME = 'sub'\n",
    "mypkg/data/table.csv": "a,b\n",
    "mypkg/__pycache__/core.cpython-311.pyc": "junk",
    "mypkg/stale.pyc": "junk",
    "mypkg/.git/HEAD": "ref",
    "mypkg/core.py~": "backup",
    "mypkg/.core.py.swp": "vim",
    "mypkg/.DS_Store": "mac",
    "nsx/inner/__init__.py": "N = 7\n",
    "solo.py": "S = 'solo'\n",
  });
  await chmod(join(root, "src/mypkg/core.py"), 0o755);
  mypkg = { name: "mypkg", kind: "package", path: join(root, "src/mypkg") };
  namespace = { name: "nsx", kind: "namespace", path: join(root, "src/nsx") };
  module = { name: "solo", kind: "module", path: join(root, "src/solo.py") };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the machine's Python with only `pythonPath` added to sys.path; returns what it prints. */
async function python(pythonPath: string, code: string, cwd = root): Promise<string> {
  return (await run(machinePython, ["-c", code], { cwd, env: { PYTHONPATH: pythonPath } })).trim();
}

describe("pyfiles shape", () => {
  it("is importable straight from the zip, submodules included", async () => {
    const zip = await writeTopLevelZip(mypkg, join(root, "mypkg.zip"), { shape: "pyfiles" });
    const output = await python(
      zip,
      "import mypkg, mypkg.sub; print(mypkg.answer(), mypkg.sub.NAME, mypkg.__file__.startswith(" +
        `${JSON.stringify(zip)}))`,
    );
    expect(output).toBe("42 sub True");
  });

  it("has the package directory as its root entry and nothing but source", async () => {
    const names = Object.keys(unzipSync(await zipTopLevel(mypkg, { shape: "pyfiles" })));
    expect(names).toEqual([
      "mypkg/",
      "mypkg/__init__.py",
      "mypkg/core.py",
      "mypkg/data/",
      "mypkg/data/table.csv",
      "mypkg/sub/",
      "mypkg/sub/__init__.py",
    ]);
  });

  it("makes a namespace package importable from the zip", async () => {
    const zip = await writeTopLevelZip(namespace, join(root, "nsx.zip"), { shape: "pyfiles" });
    expect(await python(zip, "import nsx.inner; print(nsx.inner.N)")).toBe("7");
  });

  it("puts a single module at the root", async () => {
    const zip = await writeTopLevelZip(module, join(root, "solo.zip"), { shape: "pyfiles" });
    expect(Object.keys(unzipSync(await readFile(zip)))).toEqual(["solo.py"]);
    expect(await python(zip, "import solo; print(solo.S)")).toBe("solo");
  });
});

describe("archive shape", () => {
  it("is importable once unzipped into a directory named after the package", async () => {
    const zip = await writeTopLevelZip(mypkg, join(root, "mypkg-archive.zip"), { shape: "archive" });
    const job = join(root, "job");
    await mkdir(join(job, "mypkg"), { recursive: true });
    await run("unzip", ["-q", zip, "-d", join(job, "mypkg")]);
    expect(await python(job, "import mypkg.sub; print(mypkg.answer(), mypkg.sub.NAME)", job)).toBe("42 sub");
  });

  it("has the package's contents at its root", async () => {
    const names = Object.keys(unzipSync(await zipTopLevel(mypkg, { shape: "archive" })));
    expect(names).toEqual(["__init__.py", "core.py", "data/", "data/table.csv", "sub/", "sub/__init__.py"]);
  });

  it("keeps the executable bit and nothing else of the source's mode", async () => {
    const zip = await writeTopLevelZip(mypkg, join(root, "modes.zip"), { shape: "archive" });
    const modes = await python(
      "",
      `import zipfile; print(sorted((i.filename, oct(i.external_attr >> 16)) for i in zipfile.ZipFile(${JSON.stringify(zip)}).infolist()))`,
    );
    expect(modes).toContain("('core.py', '0o100755')");
    expect(modes).toContain("('__init__.py', '0o100644')");
    expect(modes).toContain("('sub/', '0o40755')");
  });
});

describe("reproducibility", () => {
  it("gives byte-identical zips for the same sources, whatever their timestamps", async () => {
    const first = await zipTopLevel(mypkg, { shape: "pyfiles" });
    await utimes(join(root, "src/mypkg/core.py"), new Date(), new Date());
    const second = await zipTopLevel(mypkg, { shape: "pyfiles" });
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
  });

  it("gives the same bytes in any time zone", async () => {
    const previous = process.env.TZ;
    const zipIn = async (zone: string) => {
      process.env.TZ = zone;
      return Buffer.from(await zipTopLevel(mypkg, { shape: "pyfiles", sourceDateEpoch: 1_700_000_000 }));
    };
    try {
      expect((await zipIn("America/New_York")).equals(await zipIn("Asia/Tokyo"))).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });

  it("gives a different zip when a source changes", async () => {
    const before = await zipTopLevel(mypkg, { shape: "archive" });
    await writeFile(join(root, "src/mypkg/sub/__init__.py"), "NAME = 'changed'\n");
    const after = await zipTopLevel(mypkg, { shape: "archive" });
    await writeFile(join(root, "src/mypkg/sub/__init__.py"), "NAME = 'sub'\n");
    expect(Buffer.from(after).equals(Buffer.from(before))).toBe(false);
  });

  it("stamps entries with 1980-01-01 by default and with SOURCE_DATE_EPOCH when set", async () => {
    const dates = async (zip: Uint8Array) => {
      const path = join(root, "dated.zip");
      await writeFile(path, zip);
      return python(
        "",
        `import zipfile; print({i.date_time for i in zipfile.ZipFile(${JSON.stringify(path)}).infolist()})`,
      );
    };
    expect(await dates(await zipTopLevel(module, { shape: "pyfiles" }))).toBe("{(1980, 1, 1, 0, 0, 0)}");
    const previous = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = String(Date.UTC(2024, 4, 17, 13, 30, 10) / 1000);
    try {
      expect(await dates(await zipTopLevel(module, { shape: "pyfiles" }))).toBe(
        "{(2024, 5, 17, 13, 30, 10)}",
      );
    } finally {
      if (previous === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = previous;
    }
  });
});

describe("bad input", () => {
  it("refuses a source that no longer exists with one line naming it", async () => {
    const gone: ImportableTopLevel = { name: "gone", kind: "package", path: join(root, "src/gone") };
    await expect(zipTopLevel(gone, { shape: "pyfiles" })).rejects.toMatchObject({
      name: "EditableError",
      code: "MISSING_SOURCE",
      message: `${gone.path}: the source of "gone" does not exist`,
    });
  });

  it("refuses a SOURCE_DATE_EPOCH that is not a number of seconds", async () => {
    await expect(
      zipTopLevel(module, { shape: "pyfiles", sourceDateEpoch: Number.NaN }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });
});
