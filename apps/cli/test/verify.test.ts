import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildNativeWheel,
  buildWheel,
  createVenv,
  machinePython,
  pipInstall,
  type Venv,
} from "@cluster-pack/testkit";
import type { VerifyReport } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-process.js";

let root: string;
let good: Venv;
let broken: Venv;

const pack = (venv: Venv, only: string, output: string) =>
  runCli(["pack", "--python", venv.python, "--only-packages", only, "--output", output, "--json"]);

const uploadVerified = (venv: Venv, only: string, packagePath: string, ...extra: string[]) =>
  runCli([
    "upload",
    "--python",
    venv.python,
    "--only-packages",
    only,
    "--package-path",
    packagePath,
    "--verify",
    ...extra,
  ]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-verify-"));
  const wheel = async (name: string, files: Record<string, string>) => {
    const directory = join(root, "wheels", name);
    await buildWheel({ name, version: "1.0", files }, directory);
    return directory;
  };
  const [goodpkg, brokenpkg, nativepkg] = await Promise.all([
    wheel("goodpkg", { "goodpkg/__init__.py": "VALUE = 1\n" }),
    wheel("brokenpkg", { "brokenpkg/__init__.py": 'raise RuntimeError("broken on purpose")\n' }),
    buildNativeWheel(root).then((native) => native.wheels),
  ]);
  [good, broken] = await Promise.all([
    createVenv(machinePython, join(root, "good")),
    createVenv(machinePython, join(root, "broken")),
  ]);
  await Promise.all([
    pipInstall(good, ["goodpkg"], [goodpkg]),
    pipInstall(broken, ["goodpkg", "brokenpkg", "nativepkg"], [goodpkg, brokenpkg, nativepkg]),
  ]);
  const packed = await Promise.all([
    pack(good, "goodpkg", join(root, "good.pex")),
    pack(broken, "goodpkg,brokenpkg,nativepkg", join(root, "broken.pex")),
  ]);
  for (const outcome of packed) expect(outcome.code, outcome.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("cluster-pack verify", () => {
  it("exits 0 for an archive whose modules all import", async () => {
    const outcome = await runCli(["verify", join(root, "good.pex")]);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toMatch(/^goodpkg\s+ok\s*$/m);
    expect(outcome.stdout).toContain("the module imports, every native library resolves");
  });

  it("exits 1 with a table naming the broken module and the missing library", async () => {
    const outcome = await runCli(["verify", join(root, "broken.pex")]);
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toMatch(/^brokenpkg\s+failed\s+RuntimeError: broken on purpose\s*$/m);
    expect(outcome.stdout).toMatch(
      /^nativepkg\s+failed\s+ImportError: libcpneeded\.so: cannot open shared object file.*\s+libcpneeded\.so$/m,
    );
    expect(outcome.stdout).toMatch(/^goodpkg\s+ok\s*$/m);
    expect(outcome.stderr).toContain(
      "brokenpkg (RuntimeError: broken on purpose), nativepkg (missing libcpneeded.so)",
    );
  });

  it("prints the façade's report as one JSON object with --json, and still exits 1", async () => {
    const outcome = await runCli(["verify", join(root, "broken.pex"), "--json"]);
    expect(outcome.code).toBe(1);
    const report = JSON.parse(outcome.stdout) as VerifyReport;
    expect(report).toMatchObject({ format: "pex", ok: false, startup: { ok: true } });
    expect(report.modules.map((module) => [module.module, module.ok, module.missingLibraries])).toEqual([
      ["brokenpkg", false, []],
      ["goodpkg", true, []],
      ["nativepkg", false, ["libcpneeded.so"]],
    ]);
  });

  it("refuses a missing archive (exit 1) and a name that is not an archive (exit 2) in one line", async () => {
    const missing = await runCli(["verify", join(root, "absent.pex")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: .*absent\.pex: no such file or directory\n/);
    const wrongName = await runCli(["verify", join(root, "notes.txt")]);
    expect(wrongName.code).toBe(2);
    expect(wrongName.stderr).toContain("the name must end in .pex, .pex.zip, .tar.gz, .tgz or .zip");
  });

  it("refuses a --timeout that is not a positive number of seconds", async () => {
    const outcome = await runCli(["verify", join(root, "good.pex"), "--timeout", "soon"]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('--timeout must be a positive number of seconds, not "soon"');
  });
});

describe("cluster-pack upload --verify", () => {
  it("publishes nothing when the packed environment fails, naming the module and the library", async () => {
    const store = join(root, "store-broken");
    const outcome = await uploadVerified(broken, "goodpkg,brokenpkg,nativepkg", join(store, "env.pex"));
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain("not published");
    expect(outcome.stderr).toContain("brokenpkg (RuntimeError: broken on purpose)");
    expect(outcome.stderr).toContain("nativepkg (missing libcpneeded.so)");
    const left = await readdir(store).catch(() => [] as string[]);
    expect(left.filter((name) => name.startsWith("env"))).toEqual([]);
  }, 60_000);

  it("publishes an environment that passes, and verify then accepts the stored archive", async () => {
    const store = join(root, "store-good");
    const archive = join(store, "env.pex");
    const outcome = await uploadVerified(good, "goodpkg", archive, "--json");
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(JSON.parse(outcome.stdout)).toMatchObject({ uploaded: true });
    const stored = await runCli(["verify", `file://${archive}`, "--json"]);
    expect(stored.code, stored.stderr).toBe(0);
    expect(JSON.parse(stored.stdout)).toMatchObject({ archive: `file://${archive}`, ok: true });
  }, 60_000);
});
