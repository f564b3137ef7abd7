import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeInterpreter, readDistributions } from "@cluster-pack/python-env";
import {
  buildWheel,
  createVenv,
  installDevProject,
  machinePython,
  pipInstall,
  pythonFacts,
  run,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackZipappOptions, packZipapp } from "../src/index.js";
import { execute } from "./run-archive.js";

let root: string;
let env: Venv;
let host: Venv;
let base: Omit<PackZipappOptions, "output">;
let pex: string;
let pyenv: string;
let pexRoot: string;

const cli = `import json, os, sys
def main():
    print(json.dumps(sys.argv))
    return int(os.environ.get("CLI_EXIT", "0"))
if __name__ == "__main__":
    sys.exit(main())
`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-packers-"));
  // One directory per wheel: buildWheel finds its output by listing the directory, so parallel builds must not share one.
  const wheel = (name: string, version: string, files: Record<string, string>, extra = {}) =>
    buildWheel({ name, version, files, ...extra }, join(root, "wheels", `${name}-${version}`));
  await Promise.all([
    wheel("purepkg", "1.0", { "purepkg/__init__.py": 'VALUE = "pure"\n', "purepkg/cli.py": cli }),
    wheel(
      "cextpkg",
      "1.0",
      { "cextpkg/__init__.py": "" },
      { cExtension: { package: "cextpkg", name: "_speedups" } },
    ),
    wheel("shared", "1.0", { "shared/__init__.py": 'ORIGIN = "archive"\n' }),
    wheel("shared", "2.0", { "shared/__init__.py": 'ORIGIN = "host"\n' }),
    wheel("hostonly", "1.0", { "hostonly/__init__.py": "" }),
  ]);
  const links = (...names: string[]) => names.map((name) => join(root, "wheels", name));
  [env, host] = await Promise.all([
    createVenv(machinePython, join(root, "env")),
    createVenv(machinePython, join(root, "host")),
  ]);
  await Promise.all([
    pipInstall(env, ["purepkg", "cextpkg", "shared==1.0"], links("purepkg-1.0", "cextpkg-1.0", "shared-1.0")),
    pipInstall(host, ["shared==2.0", "hostonly"], links("shared-2.0", "hostonly-1.0")),
  ]);
  await installDevProject(env, join(root, "devpkg"));
  const interpreter = await probeInterpreter(env.python);
  const { distributions } = await readDistributions(interpreter.sitePackages);
  // Only the test's packages: pip and setuptools would triple every first run's extraction.
  const ours = distributions.filter((d) => ["purepkg", "cextpkg", "shared"].includes(d.normalizedName));
  base = { interpreter, distributions: ours };
  pex = join(root, "env.pex");
  await packZipapp({ ...base, output: pex });
  const unpackArchive = join(root, "env.pex.zip");
  await packZipapp({ ...base, output: unpackArchive, layout: "unpack" });
  pyenv = join(root, "unpacked", "pyenv");
  await mkdir(pyenv, { recursive: true });
  await run("unzip", ["-q", unpackArchive, "-d", pyenv]);
  pexRoot = join(root, "pex-root");
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every layout must behave as an interpreter; only how it is started differs. */
const layouts = [
  { name: "zipapp (env.pex)", command: () => pex },
  { name: "unpack layout (pyenv/__main__.py after unzip)", command: () => join(pyenv, "__main__.py") },
];

describe.each(layouts)("$name runs as an interpreter", ({ command }) => {
  const launch = (args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}) =>
    execute(command(), args, { ...options, env: { PEX_ROOT: pexRoot, ...options.env } });

  it("imports a wheel-installed pure package and a C extension", async () => {
    const outcome = await launch([
      "-c",
      "import purepkg, cextpkg._speedups as s; print(purepkg.VALUE, s.answer())",
    ]);
    expect(outcome).toMatchObject({ code: 0, stdout: "pure 42\n" });
  });

  it("-m runs a module with python's argv and propagates its exit code", async () => {
    const outcome = await launch(["-m", "purepkg.cli", "a", "--b"], { env: { CLI_EXIT: "3" } });
    expect(outcome.code).toBe(3);
    const argv = JSON.parse(outcome.stdout) as string[];
    expect(argv[0]).toMatch(/purepkg\/cli\.py$/);
    expect(argv.slice(1)).toEqual(["a", "--b"]);
  });

  it("-c runs code with argv ['-c', ...] and propagates SystemExit", async () => {
    const outcome = await launch(["-c", "import sys; print(sys.argv); sys.exit(4)", "x", "y"]);
    expect(outcome).toMatchObject({ code: 4, stdout: "['-c', 'x', 'y']\n" });
  });

  it("runs a script with its path as argv[0] and its directory first on sys.path", async () => {
    const scripts = join(root, "scripts");
    await mkdir(scripts, { recursive: true });
    await writeFile(join(scripts, "helper.py"), "NAME = 'helper'\n");
    const script = join(scripts, "job.py");
    await writeFile(
      script,
      "import sys, helper, purepkg\nprint(sys.argv, helper.NAME, __name__)\nsys.exit(5)\n",
    );
    const outcome = await launch([script, "1"]);
    expect(outcome).toMatchObject({ code: 5, stdout: `['${script}', '1'] helper __main__\n` });
  });

  it("reads the program from stdin with '-' and with no arguments", async () => {
    const program = "import sys, purepkg; print(sys.argv, purepkg.VALUE)\n";
    expect(await launch(["-", "z"], { input: program })).toMatchObject({
      code: 0,
      stdout: "['-', 'z'] pure\n",
    });
    expect(await launch([], { input: program })).toMatchObject({ code: 0, stdout: "[''] pure\n" });
  });

  it("accepts leading interpreter options such as -u and -B", async () => {
    const outcome = await launch(["-u", "-B", "-c", "import sys; print(sys.dont_write_bytecode)"]);
    expect(outcome).toMatchObject({ code: 0, stdout: "True\n" });
  });

  it("reports an uncaught exception with exit code 1", async () => {
    const outcome = await launch(["-c", "raise ValueError('boom')"]);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain("ValueError: boom");
  });

  it("sets PEX to its own absolute path", async () => {
    const outcome = await launch(["-c", "import os; print(os.environ['PEX'])"]);
    expect(outcome.stdout.trim()).toBe(command().replace(/\/__main__\.py$/, ""));
  });
});

describe("inherit_path", () => {
  const probe =
    "import shared\ntry:\n import hostonly; seen = True\nexcept ImportError: seen = False\nprint(shared.ORIGIN, seen)";
  const viaHost = (archive: string, extra: NodeJS.ProcessEnv = {}) =>
    execute(host.python, [archive, "-c", probe], { env: { PEX_ROOT: pexRoot, ...extra } });

  it("fallback (default) puts the archive's packages first and the host's site-packages after", async () => {
    expect(await viaHost(pex)).toMatchObject({ code: 0, stdout: "archive True\n" });
  });

  it("prefer puts the host's site-packages first", async () => {
    expect(await viaHost(pex, { PEX_INHERIT_PATH: "prefer" })).toMatchObject({
      code: 0,
      stdout: "host True\n",
    });
  });

  it("false hides the host's site-packages, from PEX-INFO or PEX_INHERIT_PATH", async () => {
    const isolated = join(root, "isolated.pex");
    await packZipapp({ ...base, output: isolated, inheritPath: "false" });
    expect(await viaHost(isolated)).toMatchObject({ code: 0, stdout: "archive False\n" });
    expect(await viaHost(pex, { PEX_INHERIT_PATH: "false" })).toMatchObject({
      code: 0,
      stdout: "archive False\n",
    });
  });
});

describe("the zipapp", () => {
  it("starts with a shebang naming the environment's python3.X, is executable and carries PEX-INFO", async () => {
    const shebang = `#!/usr/bin/env ${(await pythonFacts(env.python)).versionedName}\n`;
    const bytes = readFileSync(pex);
    expect(bytes.subarray(0, shebang.length + 4).toString("latin1")).toBe(`${shebang}PK\u0003\u0004`);
    expect(statSync(pex).mode & 0o111).toBe(0o111);
    const info = JSON.parse(
      await run(machinePython, [
        "-c",
        "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read('PEX-INFO').decode())",
        pex,
      ]),
    );
    expect(info).toMatchObject({
      pex_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      code_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      requirements: ["cextpkg==1.0", "purepkg==1.0", "shared==1.0"],
      inherit_path: "fallback",
      entry_point: null,
      build_properties: { python_version: base.interpreter.version },
    });
    expect(Object.keys(info.distributions)).toEqual(["cextpkg", "purepkg", "shared"]);
  });

  it("runs its entry point with the arguments, unless PEX_INTERPRETER is set", async () => {
    const tool = join(root, "tool.pex");
    await packZipapp({ ...base, output: tool, entryPoint: "purepkg.cli:main" });
    const outcome = await execute(tool, ["p", "q"], { env: { PEX_ROOT: pexRoot, CLI_EXIT: "6" } });
    expect(outcome.code).toBe(6);
    expect(JSON.parse(outcome.stdout)).toEqual([tool, "p", "q"]);
    const asInterpreter = await execute(tool, ["-c", "print('interp')"], {
      env: { PEX_ROOT: pexRoot, PEX_INTERPRETER: "1" },
    });
    expect(asInterpreter).toMatchObject({ code: 0, stdout: "interp\n" });
    const overridden = await execute(pex, ["r"], { env: { PEX_ROOT: pexRoot, PEX_MODULE: "purepkg.cli" } });
    expect(JSON.parse(overridden.stdout)).toEqual([pex, "r"]);
  });

  it("extracts once when 16 processes start together on a fresh PEX_ROOT, then takes the fast path", async () => {
    const fresh = join(root, "fresh-root");
    const runs = await Promise.all(
      Array.from({ length: 16 }, () =>
        execute(pex, ["-c", "import cextpkg._speedups as s; print(s.answer())"], {
          env: { PEX_ROOT: fresh, PEX_VERBOSE: "1" },
        }),
      ),
    );
    for (const outcome of runs) expect(outcome).toMatchObject({ code: 0, stdout: "42\n" });
    const extractions = runs.filter((outcome) => /^pex: extracted /m.test(outcome.stderr));
    expect(extractions).toHaveLength(1);
    const leftovers = (await readdir(join(fresh, "deps"))).filter((name) => name.includes(".tmp-"));
    expect(leftovers).toEqual([]);
    const again = await execute(pex, ["-c", "pass"], { env: { PEX_ROOT: fresh, PEX_VERBOSE: "1" } });
    expect(again.stderr).not.toMatch(/extracted/);
  });

  it("restores unix modes of extracted files", async () => {
    const outcome = await execute(
      pex,
      ["-c", "import os, cextpkg._speedups as s; print(oct(os.stat(s.__file__).st_mode & 0o777))"],
      {
        env: { PEX_ROOT: pexRoot },
      },
    );
    const expected =
      statSync(
        join(
          env.sitePackages,
          "cextpkg",
          (await readdir(join(env.sitePackages, "cextpkg"))).find((f) => f.endsWith(".so")) ?? "",
        ),
      ).mode & 0o777;
    expect(outcome.stdout.trim()).toBe(`0o${expected.toString(8)}`);
  });

  it("refuses an entry that would escape PEX_ROOT, with one line and a non-zero exit", async () => {
    const evil = join(root, "evil.pex");
    const escapeRoot = join(root, "escape-root");
    await run(machinePython, [
      "-c",
      [
        "import sys, zipfile",
        "with zipfile.ZipFile(sys.argv[1], 'w') as z:",
        "    z.writestr('__main__.py', open(sys.argv[2]).read())",
        "    z.writestr('PEX-INFO', '{\"pex_hash\": \"evil\"}')",
        "    z.writestr('.deps/ok.py', '')",
        "    z.writestr('.deps/../../escaped.py', 'print(1)')",
      ].join("\n"),
      evil,
      join(import.meta.dirname, "..", "bootstrap", "__main__.py"),
    ]);
    const outcome = await execute(machinePython, [evil, "-c", "pass"], { env: { PEX_ROOT: escapeRoot } });
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr.trim().split("\n")).toEqual([
      `${evil}: refusing archive entry '.deps/../../escaped.py': its path leaves the extraction directory`,
    ]);
    expect(await readdir(join(escapeRoot, "deps"))).toEqual(["evil.lock"]);
  });

  it("keeps a relative PEX_ROOT working after the program changes directory", async () => {
    const container = join(root, "container");
    await mkdir(container, { recursive: true });
    const outcome = await execute(
      pex,
      ["-c", "import os; os.chdir('/'); import purepkg.cli, purepkg; print(purepkg.__file__)"],
      { env: { PEX_ROOT: "./.pex" }, cwd: container },
    );
    expect(outcome.code).toBe(0);
    expect(outcome.stdout.trim()).toMatch(
      new RegExp(`^${container}/\\.pex/deps/[0-9a-f]{64}/purepkg/__init__\\.py$`),
    );
  });

  it("refuses a damaged archive with one line and leaves no partial extraction", async () => {
    const damaged = join(root, "damaged.pex");
    const damagedRoot = join(root, "damaged-root");
    const content = `VALUE = "${"x".repeat(4000)}"\n`;
    await run(machinePython, [
      "-c",
      [
        "import sys, zipfile",
        "with zipfile.ZipFile(sys.argv[1], 'w') as z:",
        "    z.writestr('__main__.py', open(sys.argv[2]).read())",
        "    z.writestr('PEX-INFO', '{\"pex_hash\": \"damaged\"}')",
        "    for i in range(100): z.writestr('.deps/mod%d.py' % i, sys.argv[3])",
      ].join("\n"),
      damaged,
      join(import.meta.dirname, "..", "bootstrap", "__main__.py"),
      content,
    ]);
    // One flipped byte inside the last stored module, as a truncated or corrupted download would leave it.
    const bytes = readFileSync(damaged);
    const at = bytes.lastIndexOf(Buffer.from("xxxx"));
    bytes[at] = "y".charCodeAt(0);
    await writeFile(damaged, bytes);
    const outcome = await execute(machinePython, [damaged, "-c", "pass"], { env: { PEX_ROOT: damagedRoot } });
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr.trim().split("\n")).toEqual([
      `${damaged}: cannot extract: bad CRC-32 or size for '.deps/mod99.py' (archive damaged in transfer?)`,
    ]);
    expect(await readdir(join(damagedRoot, "deps"))).toEqual(["damaged.lock"]);
  });

  it("streams members larger than memory should hold, checks them, and refuses a damaged one", async () => {
    const archive = join(root, "large-members.pex");
    // 40 MiB of zeros deflated to a few KiB (one read expands a lot) and 20 MiB stored; then a copy with one byte
    // flipped in the middle of the stored member.
    await run(machinePython, [
      "-c",
      [
        "import os, shutil, sys, zipfile",
        "with zipfile.ZipFile(sys.argv[1], 'w') as z:",
        "    z.writestr('__main__.py', open(sys.argv[2]).read())",
        "    z.writestr('PEX-INFO', '{\"pex_hash\": \"large\"}')",
        "    z.writestr('.deps/zeros.bin', bytes(40 << 20), compress_type=zipfile.ZIP_DEFLATED)",
        "    z.writestr('.deps/random.bin', os.urandom(20 << 20))",
        "    info = z.getinfo('.deps/random.bin')",
        "damaged = sys.argv[1] + '.damaged'",
        "shutil.copy(sys.argv[1], damaged)",
        "with open(damaged, 'r+b') as f:",
        "    f.seek(info.header_offset + 30 + len(info.filename) + (10 << 20))",
        "    byte = f.read(1)",
        "    f.seek(-1, 1)",
        "    f.write(bytes([byte[0] ^ 0xFF]))",
      ].join("\n"),
      archive,
      join(import.meta.dirname, "..", "bootstrap", "__main__.py"),
    ]);
    const largeRoot = join(root, "large-root");
    const compare = [
      "import hashlib, os, zipfile",
      "z = zipfile.ZipFile(os.environ['PEX'])",
      "for name in ('zeros.bin', 'random.bin'):",
      "    extracted = open(os.path.join(os.environ['PEX_ROOT'], 'deps', 'large', name), 'rb').read()",
      "    print(name, hashlib.sha256(extracted).digest() == hashlib.sha256(z.read('.deps/' + name)).digest())",
    ].join("\n");
    const outcome = await execute(machinePython, [archive, "-c", compare], { env: { PEX_ROOT: largeRoot } });
    expect(outcome).toMatchObject({ code: 0, stdout: "zeros.bin True\nrandom.bin True\n" });

    const damaged = `${archive}.damaged`;
    const damagedRoot = join(root, "large-damaged-root");
    const refused = await execute(machinePython, [damaged, "-c", "pass"], { env: { PEX_ROOT: damagedRoot } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim().split("\n")).toEqual([
      `${damaged}: cannot extract: bad CRC-32 or size for '.deps/random.bin' (archive damaged in transfer?)`,
    ]);
    expect((await readdir(join(damagedRoot, "deps"))).filter((name) => !name.endsWith(".lock"))).toEqual([]);
  });

  it("keys pex_hash on file content: a same-size edit RECORD does not know about changes it", async () => {
    const module = join(env.sitePackages, "purepkg", "__init__.py");
    const original = await readFile(module, "utf8");
    const before = await packZipapp({ ...base, output: join(root, "before.pex") });
    try {
      await writeFile(module, original.replace("pure", "PURE"));
      const after = await packZipapp({ ...base, output: join(root, "after.pex") });
      expect(after.pexInfo.pex_hash).not.toBe(before.pexInfo.pex_hash);
      expect(after.pexInfo.distributions.purepkg).not.toBe(before.pexInfo.distributions.purepkg);
      expect(after.pexInfo.distributions.cextpkg).toBe(before.pexInfo.distributions.cextpkg);
    } finally {
      await writeFile(module, original);
    }
  });

  it("is byte-identical when the same environment is packed twice", async () => {
    const all = { interpreter: base.interpreter };
    const first = await packZipapp({ ...all, output: join(root, "one.pex") });
    const second = await packZipapp({ ...all, output: join(root, "two.pex") });
    expect(first.sha256).toBe(second.sha256);
    const digest = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
    expect(digest(join(root, "two.pex"))).toBe(first.sha256);
    // Without an explicit selection, the whole environment is packed (pip and setuptools included).
    expect(first.pexInfo.requirements.some((r) => r.startsWith("pip=="))).toBe(true);
  });

  it("bakes editable code in only when asked", async () => {
    const withCode = join(root, "with-code.pex");
    const baked = await packZipapp({ ...base, output: withCode, includeEditable: true });
    const probe = ["-c", "import devpkg; print(devpkg.STATE)"];
    expect(await execute(withCode, probe, { env: { PEX_ROOT: pexRoot } })).toMatchObject({
      code: 0,
      stdout: "dev\n",
    });
    const without = await execute(pex, probe, { env: { PEX_ROOT: pexRoot } });
    expect(without.stderr).toContain("No module named 'devpkg'");
    const packed = await packZipapp({ ...base, output: join(root, "without-code.pex") });
    expect(baked.pexInfo.code_hash).not.toBe(packed.pexInfo.code_hash);
  });

  it("keeps its packages with inherit_path false when its deps are already on PYTHONPATH", async () => {
    const outcome = await execute(
      join(pyenv, "__main__.py"),
      ["-c", "import purepkg; print(purepkg.__file__)"],
      {
        env: { PEX_INHERIT_PATH: "false", PYTHONPATH: join(pyenv, ".deps") },
      },
    );
    expect(outcome.stderr).toBe("");
    expect(outcome.stdout.trim().startsWith(join(pyenv, ".deps"))).toBe(true);
  });

  it("uses the unpacked directory in place, with no extraction", async () => {
    const untouched = join(root, "untouched-root");
    const outcome = await execute(
      join(pyenv, "__main__.py"),
      ["-c", "import cextpkg._speedups as s; print(s.__file__)"],
      {
        env: { PEX_ROOT: untouched },
      },
    );
    expect(outcome.stdout.trim().startsWith(join(pyenv, ".deps"))).toBe(true);
    await expect(readFile(untouched)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
