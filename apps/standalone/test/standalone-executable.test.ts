// The standalone executable and the one-file bundle, run as a user without Node (or with only Node) would: they
// pack, upload to each kind of store, and the archive they wrote runs.
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createShippableVenv,
  execute,
  importBoth,
  type RunningTestStore,
  testStores,
  type Venv,
  writeMinimalPex,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executable, makeExecutableScript, oneFileBundle, pathWithoutNode, userEnv } from "./built-files.js";

let root: string;
let venv: Venv;
let nodeless: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-standalone-"));
  venv = (await createShippableVenv(join(root, "shippable"))).venv;
  nodeless = await pathWithoutNode(root);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

describe("the standalone executable", () => {
  it("runs where no node is on the PATH", async () => {
    const which = await execute("/bin/sh", ["-c", "command -v node || echo none"], {
      env: { PATH: nodeless },
    });
    expect(which.stdout.trim()).toBe("none");
    const version = await execute(executable, ["--version"], { env: userEnv({ PATH: nodeless }) });
    expect(version).toMatchObject({ code: 0, stderr: "" });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  for (const store of testStores) {
    describe(`on ${store.name}`, () => {
      let running: RunningTestStore;
      beforeAll(async () => {
        running = await store.start(root);
      });
      afterAll(async () => {
        await running?.stop();
      });

      it("uploads the environment with its editable code, then finds it current", async () => {
        const env = userEnv({ ...running.env, PATH: nodeless, CLUSTER_PACK_STORE: join(root, "store") });
        const packagePath = `${running.directory}/team.pex`;
        const args = ["upload", "--python", venv.python, "--package-path", packagePath, "--json"];
        const first = await execute(executable, args, { env });
        expect(first.stderr).toBe("");
        expect(first.code).toBe(0);
        expect(JSON.parse(first.stdout)).toMatchObject({
          uploaded: true,
          packagePath,
          editable: [{ name: "devpkg" }],
        });
        const second = await execute(executable, args, { env });
        expect(second.code).toBe(0);
        expect(JSON.parse(second.stdout)).toMatchObject({ uploaded: false, packagePath });
      });
    });
  }

  it("writes an archive that runs, and a Spark configuration equal to the Node build's", async () => {
    const store = join(root, "local-store");
    const packagePath = join(store, "envs", "run.pex");
    const env = userEnv({ PATH: nodeless, CLUSTER_PACK_STORE: store });
    const upload = await execute(
      executable,
      ["upload", "--python", venv.python, "--package-path", packagePath, "--quiet"],
      { env },
    );
    expect(upload).toMatchObject({ code: 0, stderr: "" });
    const editableZip = join(store, "envs", "run_editable", "devpkg.zip");
    const ran = await execute("python3", [packagePath, "-c", importBoth], {
      env: userEnv({ PATH: nodeless, PEX_ROOT: join(root, "pex-root"), PYTHONPATH: editableZip }),
    });
    expect(ran).toMatchObject({ code: 0, stdout: "wheel dev\n" });

    const spark = ["config", "spark", "--package-path", packagePath, "--json"];
    const fromExecutable = await execute(executable, spark, { env });
    const fromBundle = await execute(process.execPath, [oneFileBundle, ...spark], { env });
    expect(fromExecutable.code).toBe(0);
    const index = join(store, "envs", "run_editable", "editable_packages_index");
    expect(JSON.parse(fromExecutable.stdout).properties["spark.yarn.dist.files"]).toBe(
      `${packagePath},${index}`,
    );
    expect(fromBundle.stdout).toBe(fromExecutable.stdout);
  });

  it("loads a storage plugin from the working directory's node_modules", async () => {
    const project = join(root, "project");
    await mkdir(join(project, "node_modules"), { recursive: true });
    const plugin = fileURLToPath(new URL("../../../examples/fs-memory", import.meta.url));
    await symlink(plugin, join(project, "node_modules", "cluster-pack-fs-memory"));
    const archive = await writeMinimalPex(join(project, "env.pex"));
    const args = [
      "--plugin",
      "cluster-pack-fs-memory",
      "upload-zip",
      archive,
      "--package-path",
      "memory://team/env.pex",
    ];
    const outcome = await execute(executable, [...args, "--json"], {
      env: userEnv({ PATH: nodeless }),
      cwd: project,
    });
    expect(outcome.stderr).toBe("");
    expect(JSON.parse(outcome.stdout)).toMatchObject({
      uploaded: true,
      packagePath: "memory://team/env.pex",
    });
  });

  it("is made the same, byte for byte, from the same bundle", async () => {
    const again = join(root, "again");
    await mkdir(again);
    await copyFile(oneFileBundle, join(again, "cluster-pack.cjs"));
    const made = await execute(process.execPath, [makeExecutableScript, again]);
    expect(made.code).toBe(0);
    expect(await sha256(join(again, "cluster-pack"))).toBe(await sha256(executable));
  });

  it("needs glibc 2.28 at most (the manylinux_2_28 floor the Python wheel declares)", async () => {
    const symbols = await execute("objdump", ["-T", executable]);
    expect(symbols.code).toBe(0);
    const versions = [...symbols.stdout.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map(
      ([, major, minor]) => Number(major) * 1000 + Number(minor),
    );
    expect(versions.length).toBeGreaterThan(0);
    expect(Math.max(...versions)).toBe(2028);
  });
});

describe("the one-file bundle", () => {
  it("runs from a directory holding nothing else, on the machine's Node", async () => {
    const alone = join(root, "alone");
    await mkdir(alone);
    await copyFile(oneFileBundle, join(alone, "cluster-pack.cjs"));
    const packagePath = join(root, "bundle-store", "big.pex.zip");
    const upload = await execute(
      process.execPath,
      [
        join(alone, "cluster-pack.cjs"),
        "upload",
        "--python",
        venv.python,
        "--package-path",
        packagePath,
        "--json",
      ],
      { env: userEnv({ PATH: `${nodeless}:/usr/bin:/bin` }), cwd: alone },
    );
    expect(upload.stderr).toBe("");
    expect(JSON.parse(upload.stdout)).toMatchObject({ uploaded: true, packer: "pex.zip" });
    // The unpack layout, unpacked as YARN would, runs its bootstrap (inlined into the bundle).
    const unpacked = join(root, "unpacked");
    expect((await execute("unzip", ["-q", packagePath, "-d", unpacked])).code).toBe(0);
    const ran = await execute("python3", [
      join(unpacked, "__main__.py"),
      "-c",
      "import purepkg; print(purepkg.VALUE)",
    ]);
    expect(ran).toMatchObject({ code: 0, stdout: "wheel\n" });
  });
});
