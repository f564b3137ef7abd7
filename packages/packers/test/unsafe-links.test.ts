import { spawnSync } from "node:child_process";
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { listTar, listZip } from "@cluster-pack/archive";
import { type Interpreter, probeInterpreter, readDistributions } from "@cluster-pack/python-env";
import {
  buildWheel,
  copyBuiltPackage,
  createCondaStylePrefix,
  createVenv,
  installCondaPackage,
  machinePython,
  pipInstall,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packConda, packVenv, packZipapp } from "../src/index.js";

const isRoot = process.getuid?.() === 0;
let root: string;
let venv: Venv;
let interpreter: Interpreter;
let record: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-unsafe-links-"));
  await chmod(root, 0o755);
  const wheels = join(root, "wheels");
  await buildWheel(
    { name: "purepkg", version: "1.0", files: { "purepkg/__init__.py": "VALUE = 1\n" } },
    wheels,
  );
  venv = await createVenv(machinePython, join(root, "venv"));
  await pipInstall(venv, ["purepkg"], [wheels]);
  interpreter = await probeInterpreter(venv.python);
  record = join(venv.sitePackages, "purepkg-1.0.dist-info", "RECORD");
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs `action` with a symlink at `path` (inside the venv), removed afterwards. */
async function withLink<T>(target: string, path: string, action: () => Promise<T>): Promise<T> {
  await mkdir(join(path, ".."), { recursive: true });
  await symlink(target, path);
  try {
    return await action();
  } finally {
    await rm(path);
  }
}

/** Runs `action` with `rows` appended to purepkg's RECORD, restored afterwards. */
async function withRecordRows<T>(rows: string, action: () => Promise<T>): Promise<T> {
  const original = await readFile(record);
  await appendFile(record, rows);
  try {
    return await action();
  } finally {
    await writeFile(record, original);
  }
}

const packPurepkg = async (output: string, unsafeLinks?: "skip") => {
  const { distributions } = await readDistributions(interpreter.sitePackages);
  return packZipapp({
    interpreter,
    distributions: distributions.filter((d) => d.normalizedName === "purepkg"),
    output,
    ...(unsafeLinks && { unsafeLinks }),
  });
};

const tarNames = async (archive: string) => (await listTar(archive)).map((entry) => entry.name);

describe("symlinks met walking a venv", () => {
  it("refuses an absolute link outside the environment, naming it and its target", async () => {
    const link = join(venv.prefix, "share", "outside");
    await withLink("/etc/hostname", link, () =>
      expect(packVenv({ interpreter, output: join(root, "outside.tar.gz") })).rejects.toMatchObject({
        code: "UNRELOCATABLE",
        message: `${link}: a symlink to /etc/hostname, outside the environment: the archive cannot hold what it points at; replace it with a copy or remove it`,
      }),
    );
  });

  it("refuses a relative link that climbs out of the environment", async () => {
    await writeFile(join(root, "beside-the-venv.txt"), "not shipped\n");
    const link = join(venv.prefix, "share", "up");
    await withLink("../../beside-the-venv.txt", link, () =>
      expect(packVenv({ interpreter, output: join(root, "up.tar.gz") })).rejects.toMatchObject({
        code: "UNRELOCATABLE",
        message: `${link}: a symlink to ../../beside-the-venv.txt, which leaves the environment: the archive cannot hold what it points at; replace it with a copy or remove it`,
      }),
    );
  });

  it("refuses a dangling link, in a zip too", async () => {
    const link = join(venv.prefix, "share", "dangling");
    await withLink("nowhere", link, () =>
      expect(packVenv({ interpreter, output: join(root, "dangling.zip") })).rejects.toMatchObject({
        code: "MISSING_FILE",
        message: `${link}: a symlink to nowhere, which does not exist: remove it, or restore what it points at`,
      }),
    );
  });

  it("refuses a chain of links whose last step leaves the environment", async () => {
    const link = join(venv.prefix, "share", "first");
    await withLink("/etc", join(venv.prefix, "share", "second"), () =>
      withLink("second/hostname", link, () =>
        expect(packVenv({ interpreter, output: join(root, "chain.tar.gz") })).rejects.toMatchObject({
          code: "UNRELOCATABLE",
        }),
      ),
    );
  });

  it("leaves out, when told to skip, links outside or climbing out of it, a warning naming each", async () => {
    await writeFile(join(root, "beside-the-venv.txt"), "not shipped\n");
    const output = join(root, "skipped.tar.gz");
    const packed = await withLink("/etc/hostname", join(venv.prefix, "share", "outside"), () =>
      withLink("../../beside-the-venv.txt", join(venv.prefix, "share", "up"), () =>
        packVenv({ interpreter, output, unsafeLinks: "skip" }),
      ),
    );
    expect(packed.warnings).toEqual([
      "share/outside: a symlink to /etc/hostname, outside the environment; left out",
      "share/up: a symlink to ../../beside-the-venv.txt, which leaves the environment; left out",
    ]);
    const names = await tarNames(output);
    expect(names).not.toContain("share/outside");
    expect(names).not.toContain("share/up");
    expect(names).toContain("bin/python");
  });

  it("keeps links inside the venv, and the interpreter links to its base, making absolute ones relative", async () => {
    const output = join(root, "inside.tar.gz");
    await withLink(join(venv.prefix, "pyvenv.cfg"), join(venv.prefix, "share", "config"), () =>
      packVenv({ interpreter, output }),
    );
    const links = new Map(
      (await listTar(output))
        .filter((entry) => entry.kind === "symlink")
        .map((entry) => [entry.name, entry.linkname]),
    );
    expect(links.get("share/config")).toBe("../pyvenv.cfg");
    expect(links.get("lib64")).toBe("lib");
    expect(links.has("bin/python")).toBe(true);
  });
});

describe("symlinks met walking a conda environment", () => {
  let conda: Venv;
  let dangling: string;

  beforeAll(async () => {
    conda = await createCondaStylePrefix(join(root, "miniconda", "envs", "links"), []);
    await installCondaPackage(conda.prefix, {
      name: "linked",
      version: "1.0",
      build: "0",
      files: { "share/linked/data.txt": { content: "data\n" }, "share/linked/alias.txt": { content: "" } },
    });
    // conda's file, now a link to one that is gone: left out for that reason, not also counted as gone.
    dangling = join(conda.prefix, "share", "linked", "alias.txt");
    await rm(dangling);
    await symlink("moved.txt", dangling);
    await symlink("/etc/hostname", join(conda.prefix, "share", "linked", "host"));
  }, 120_000);

  const packLinked = (output: string, unsafeLinks?: "skip") =>
    packConda({
      interpreter: { prefix: conda.prefix, sitePackages: [conda.sitePackages] },
      output,
      ...(unsafeLinks && { unsafeLinks }),
    });

  it("refuses a dangling link by default", async () => {
    await expect(packLinked(join(root, "conda-dangling.tar.gz"))).rejects.toMatchObject({
      code: "MISSING_FILE",
      message: `${dangling}: a symlink to moved.txt, which does not exist: remove it, or restore what it points at`,
    });
  });

  it("leaves it out when told to skip, with one warning, keeping absolute links out of the prefix", async () => {
    const output = join(root, "conda-skipped.tar.gz");
    const packed = await packLinked(output, "skip");
    expect(packed.warnings).toEqual([
      "share/linked/alias.txt: a symlink to moved.txt, which does not exist; left out",
    ]);
    expect(packed.missing).toEqual([]);
    const names = await tarNames(output);
    expect(names).toContain("share/linked/data.txt");
    expect(names).toContain("share/linked/host");
    expect(names).not.toContain("share/linked/alias.txt");
  });
});

describe("symlinks listed in a RECORD", () => {
  it("refuses an absolute link outside site-packages", async () => {
    const link = join(venv.sitePackages, "purepkg", "hostname.txt");
    await withLink("/etc/hostname", link, () =>
      withRecordRows("purepkg/hostname.txt,,\n", () =>
        expect(packPurepkg(join(root, "absolute.pex"))).rejects.toMatchObject({
          code: "UNRELOCATABLE",
          message: `${link}: a symlink to /etc/hostname, outside the environment: the archive cannot hold what it points at; replace it with a copy or remove it`,
        }),
      ),
    );
  });

  it("refuses a dangling one", async () => {
    const link = join(venv.sitePackages, "purepkg", "gone.py");
    await withLink("moved.py", link, () =>
      withRecordRows("purepkg/gone.py,,\n", () =>
        expect(packPurepkg(join(root, "dangling.pex"))).rejects.toMatchObject({
          code: "MISSING_FILE",
          message: `${link}: a symlink to moved.py, which does not exist: remove it, or restore what it points at`,
        }),
      ),
    );
  });

  it("leaves a dangling one out of a zipapp when told to skip, with a warning naming it", async () => {
    const link = join(venv.sitePackages, "purepkg", "gone.py");
    const output = join(root, "dangling-skipped.pex");
    const packed = await withLink("moved.py", link, () =>
      withRecordRows("purepkg/gone.py,,\n", () => packPurepkg(output, "skip")),
    );
    expect(packed.warnings).toEqual([`${link}: a symlink to moved.py, which does not exist; left out`]);
    const { entries } = await listZip(output);
    const names = entries.map((entry) => entry.name);
    expect(names).toContain(".deps/purepkg/__init__.py");
    expect(names).not.toContain(".deps/purepkg/gone.py");
  });

  it("names a skipped link's control characters as escapes", async () => {
    const link = join(venv.sitePackages, "purepkg", "odd\u001b[2J.py");
    const packed = await withLink("/etc/host\nname", link, () =>
      withRecordRows('"purepkg/odd\u001b[2J.py",,\n', () =>
        packPurepkg(join(root, "odd-skipped.pex"), "skip"),
      ),
    );
    expect(packed.warnings).toEqual([
      `${venv.sitePackages}/purepkg/odd\\x1b[2J.py: a symlink to /etc/host\\nname, outside the environment; left out`,
    ]);
  });

  it("packs one that stays inside site-packages", async () => {
    const link = join(venv.sitePackages, "purepkg", "alias.py");
    await withLink("__init__.py", link, () =>
      withRecordRows("purepkg/alias.py,,\n", () => packPurepkg(join(root, "inside.pex"))),
    );
  });

  it("shows control characters of a missing file's name as escapes", async () => {
    await withRecordRows('"purepkg/\u001b[2Jgone\nfor good.py",,\n', () =>
      expect(packPurepkg(join(root, "escapes.pex"))).rejects.toMatchObject({
        code: "MISSING_FILE",
        message: `${venv.sitePackages}/purepkg/\\x1b[2Jgone\\nfor good.py: listed in its distribution's RECORD but missing; reinstall it`,
      }),
    );
  });
});

describe("files this user may not read", () => {
  it("says cannot be read (permission denied), naming the file of a RECORD or the directory in a venv", async () => {
    const locked = join(venv.sitePackages, "purepkg");
    const out = await mkdtemp(join(tmpdir(), "cp-unsafe-out-"));
    await chmod(out, 0o777);
    // Root reads anything, so packing runs as nobody, from a copy of the built package it can read.
    const code = await mkdtemp(join(tmpdir(), "cp-code-"));
    await copyBuiltPackage(fileURLToPath(new URL("..", import.meta.url)), code);
    await chmod(code, 0o755);
    const script = `
      import { packVenv, packZipapp } from ${JSON.stringify(pathToFileURL(join(code, "index.js")).href)};
      const interpreter = ${JSON.stringify(interpreter)};
      const failure = (promise) => promise.then(() => ({}), (error) => ({ code: error.code, message: error.message }));
      console.log(JSON.stringify([
        await failure(packZipapp({ interpreter, output: ${JSON.stringify(join(out, "env.pex"))} })),
        await failure(packVenv({ interpreter, output: ${JSON.stringify(join(out, "env.tar.gz"))} })),
      ]));
    `;
    await chmod(locked, 0o000);
    try {
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        ...(isRoot && { uid: 65534, gid: 65534 }),
      });
      expect(child.stderr).toBe("");
      const advice =
        "cannot be read (permission denied): make it readable for this user, or pack as its owner";
      expect(JSON.parse(child.stdout)).toEqual([
        {
          code: "MISSING_FILE",
          message: expect.stringMatching(/\/purepkg\/[^/:]+: cannot be read \(permission/),
        },
        { code: "MISSING_FILE", message: `${locked}: ${advice}` },
      ]);
      expect(JSON.parse(child.stdout)[0].message).toMatch(
        new RegExp(`: ${advice.replace(/[()]/g, "\\$&")}$`),
      );
    } finally {
      await chmod(locked, 0o755);
      await rm(code, { recursive: true, force: true });
      await rm(out, { recursive: true, force: true });
    }
  });
});
