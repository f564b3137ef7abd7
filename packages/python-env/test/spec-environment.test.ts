import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  buildWheel,
  buildWheelOfProject,
  debianPython,
  machinePython,
  type PackageIndex,
  retagWheel,
  run,
  startPackageIndex,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildSpecEnvironment,
  formatLock,
  installWheel,
  parseRecord,
  readDistributions,
  stagingSitePackages,
  targetOfPlatformTags,
} from "../src/index.js";

let root: string;
/** Wheels built here: `cp-spec` (with a console script and data files), `cp-dep` (its dependency). */
let built: string;
/** What the loopback index serves: re-tagged copies for targets other than this machine. */
let served: string;
let index: PackageIndex;
let specWheel: string;
let sequence = 0;
const fresh = (name: string) => join(root, `${name}-${++sequence}`);

/** A wheel with `.data/` directories (scripts, data, headers), as setuptools writes them. */
async function wheelWithDataDirectories(directory: string): Promise<string> {
  const project = await mkdtemp(join(root, "project-"));
  await mkdir(join(project, "cp_spec"), { recursive: true });
  await writeFile(
    join(project, "cp_spec", "__init__.py"),
    "VALUE = 'spec'\ndef main():\n    print('tool ran')\n",
  );
  await writeFile(join(project, "cp_spec", "native.so"), "not really native\n");
  await writeFile(join(project, "legacy-script"), "#!python\nprint('legacy script')\n");
  await writeFile(join(project, "notes.txt"), "shared data\n");
  await writeFile(join(project, "cp_spec.h"), "/* header */\n");
  await writeFile(
    join(project, "setup.py"),
    `from setuptools import setup
setup(name="cp-spec", version="2.0", packages=["cp_spec"], package_data={"cp_spec": ["native.so"]},
      scripts=["legacy-script"], data_files=[("share/cp-spec", ["notes.txt"])], headers=["cp_spec.h"],
      install_requires=["cp-dep"], entry_points={"console_scripts": ["cp-spec-tool=cp_spec:main"]})
`,
  );
  return buildWheelOfProject(project, directory);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-spec-env-"));
  built = join(root, "built");
  served = join(root, "served");
  await mkdir(served, { recursive: true });
  specWheel = await wheelWithDataDirectories(built);
  const dep = await buildWheel(
    { name: "cp-dep", version: "1.0", files: { "cp_dep/__init__.py": "DEP = 1\n" } },
    built,
  );
  // The index holds only wheels for Python 3.12 on manylinux2014 x86_64, a macOS build, and an sdist-only project.
  await retagWheel(specWheel, "cp312-cp312-manylinux2014_x86_64", served);
  await retagWheel(dep, "cp312-cp312-manylinux2014_x86_64", served);
  await retagWheel(dep, "cp312-cp312-macosx_11_0_arm64", served);
  await writeFile(join(served, "cp_sdist_only-1.0.tar.gz"), "not a real sdist");
  index = await startPackageIndex(served);
}, 90_000);

afterAll(async () => {
  await index?.stop();
  await rm(root, { recursive: true, force: true });
});

const linux312 = { platforms: ["manylinux2014_x86_64"], pythonVersion: "3.12", implementation: "cp" };
const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

/** Every file under a directory with its mode and content hash: what two installs must share to be identical. */
async function treeOf(directory: string): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    lines.push(
      `${path.slice(directory.length)} ${(await stat(path)).mode.toString(8)} ${await sha256(path)}`,
    );
  }
  return lines.sort();
}

describe("installWheel", () => {
  it("maps .data directories, writes console scripts for the target and rewrites RECORD", async () => {
    const prefix = fresh("install");
    const installed = await installWheel({ wheel: specWheel, prefix, pythonVersion: "3.12" });
    expect(installed).toMatchObject({ name: "cp_spec", version: "2.0", distInfo: "cp_spec-2.0.dist-info" });
    const site = stagingSitePackages(prefix);
    expect(await readFile(join(site, "cp_spec", "__init__.py"), "utf8")).toContain("VALUE = 'spec'");
    expect(await readFile(join(prefix, "share", "cp-spec", "notes.txt"), "utf8")).toBe("shared data\n");
    expect(await readFile(join(prefix, "include", "cp_spec", "cp_spec.h"), "utf8")).toBe("/* header */\n");
    const legacy = await readFile(join(prefix, "bin", "legacy-script"), "utf8");
    expect(legacy.split("\n")[0]).toBe("#!/usr/bin/env python3.12");
    const tool = join(prefix, "bin", "cp-spec-tool");
    expect((await readFile(tool, "utf8")).split("\n")[0]).toBe("#!/usr/bin/env python3.12");
    expect((await stat(tool)).mode & 0o777).toBe(0o755);
    // The script runs with any Python once site-packages is on the path.
    const out = await run(machinePython, [tool], { env: { PYTHONPATH: site } });
    expect(out).toBe("tool ran\n");
    expect(await readFile(join(site, installed.distInfo, "INSTALLER"), "utf8")).toBe("cluster-pack\n");
    const record = parseRecord(await readFile(join(site, installed.distInfo, "RECORD"), "utf8"));
    expect(record.find((entry) => entry.path === `${installed.distInfo}/RECORD`)?.hash).toBeUndefined();
    for (const entry of record.filter((e) => e.hash)) {
      const data = await readFile(join(site, entry.path));
      expect(entry.hash, entry.path).toBe(`sha256=${createHash("sha256").update(data).digest("base64url")}`);
      expect(entry.size).toBe(data.length);
    }
    expect(record.map((e) => e.path)).toContain("../bin/cp-spec-tool");
    expect(record.map((e) => e.path)).toEqual([...record.map((e) => e.path)].sort());
    // What the packers read back: the distribution with its RECORD.
    const { distributions } = await readDistributions([site]);
    expect(distributions.map((d) => d.name)).toEqual(["cp-spec"]);
  });

  it("installs the same wheel into byte-identical trees", async () => {
    const [a, b] = [fresh("same"), fresh("same")];
    await installWheel({ wheel: specWheel, prefix: a, pythonVersion: "3.11" });
    await installWheel({ wheel: specWheel, prefix: b, pythonVersion: "3.11" });
    expect(await treeOf(a)).toEqual(await treeOf(b));
  });

  async function tamperedWheel(change: string): Promise<string> {
    const out = fresh("tampered");
    await mkdir(out, { recursive: true });
    const script = `import base64, hashlib, os, sys, zipfile
source, target, change = sys.argv[1:4]
# Larger than what the installer reads whole: this member streams to its place.
big = os.urandom(3 << 20)
recorded = big if change == "big" else os.urandom(3 << 20)
with zipfile.ZipFile(source) as wheel, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
    for info in wheel.infolist():
        data = wheel.read(info)
        if change == "content" and info.filename == "cp_spec/__init__.py":
            data += b"\\nprint('injected')\\n"
        if change.startswith("big") and info.filename.endswith(".dist-info/RECORD"):
            digest = base64.urlsafe_b64encode(hashlib.sha256(recorded).digest()).rstrip(b"=").decode()
            data += ("cp_spec/big.bin,sha256=%s,%d\\n" % (digest, len(big))).encode()
        out.writestr(info, data)
    if change.startswith("big"):
        out.writestr("cp_spec/big.bin", big)
    if change == "escape":
        out.writestr("../../escaped.py", "x = 1")
    if change == "absolute":
        out.writestr("/tmp/absolute.py", "x = 1")
`;
    const target = join(out, "cp_spec-2.0-py3-none-any.whl");
    await run(machinePython, ["-c", script, specWheel, target, change]);
    return target;
  }

  it("refuses a wheel whose content does not match its RECORD", async () => {
    const prefix = fresh("bad-hash");
    await expect(
      installWheel({ wheel: await tamperedWheel("content"), prefix, pythonVersion: "3.11" }),
    ).rejects.toThrow(/"cp_spec\/__init__\.py" does not match the hash its RECORD gives/);
    await expect(stat(join(stagingSitePackages(prefix), "cp_spec"))).rejects.toThrow();
  });

  it("streams a large member to its place, checked against RECORD all the same", async () => {
    const prefix = fresh("big");
    const installed = await installWheel({
      wheel: await tamperedWheel("big"),
      prefix,
      pythonVersion: "3.11",
    });
    const site = stagingSitePackages(prefix);
    const big = await readFile(join(site, "cp_spec", "big.bin"));
    expect(big.length).toBe(3 << 20);
    const record = parseRecord(await readFile(join(site, installed.distInfo, "RECORD"), "utf8"));
    expect(record.find((entry) => entry.path === "cp_spec/big.bin")).toMatchObject({
      hash: `sha256=${createHash("sha256").update(big).digest("base64url")}`,
      size: big.length,
    });
    const refused = fresh("big-tampered");
    await expect(
      installWheel({ wheel: await tamperedWheel("big-tampered"), prefix: refused, pythonVersion: "3.11" }),
    ).rejects.toThrow(/"cp_spec\/big\.bin" does not match the hash its RECORD gives/);
    // What it had written before the mismatch showed is taken back.
    await expect(stat(join(stagingSitePackages(refused), "cp_spec"))).rejects.toThrow();
  });

  it("refuses an entry that would escape the installation directory", async () => {
    const prefix = fresh("escape");
    await expect(
      installWheel({ wheel: await tamperedWheel("escape"), prefix, pythonVersion: "3.11" }),
    ).rejects.toThrow(
      /refusing wheel entry "\.\.\/\.\.\/escaped\.py": its path leaves the installation directory/,
    );
    await expect(stat(join(root, "escaped.py"))).rejects.toThrow();
    await expect(
      installWheel({ wheel: await tamperedWheel("absolute"), prefix, pythonVersion: "3.11" }),
    ).rejects.toThrow(
      /refusing wheel entry "\/tmp\/absolute\.py": its path leaves the installation directory/,
    );
    // Refused before anything is written.
    await expect(stat(prefix)).rejects.toThrow();
  });
});

describe("targetOfPlatformTags", () => {
  it("reads manylinux, legacy manylinux and macOS tags", () => {
    expect(
      targetOfPlatformTags({ platforms: ["manylinux2014_x86_64"], pythonVersion: "3.12" }),
    ).toMatchObject({
      os: "linux",
      machine: "x86_64",
      glibcVersion: "2.17",
      abiTag: "cp312",
      implementation: "cpython",
    });
    expect(
      targetOfPlatformTags({
        platforms: ["manylinux_2_28_aarch64", "manylinux2014_aarch64"],
        pythonVersion: "3.11",
      }),
    ).toMatchObject({ os: "linux", machine: "aarch64", glibcVersion: "2.28" });
    expect(targetOfPlatformTags({ platforms: ["macosx_11_0_arm64"], pythonVersion: "3.11" })).toMatchObject({
      os: "darwin",
      machine: "arm64",
      macosVersion: "11.0",
    });
    expect(() =>
      targetOfPlatformTags({
        platforms: ["manylinux2014_x86_64", "macosx_11_0_arm64"],
        pythonVersion: "3.11",
      }),
    ).toThrow(/name more than one machine/);
    expect(() => targetOfPlatformTags({ platforms: ["solaris_sparc"], pythonVersion: "3.11" })).toThrow(
      /platform tag "solaris_sparc" is not one cluster-pack knows/,
    );
  });
});

describe("buildSpecEnvironment", () => {
  it("resolves through the loopback index for a foreign target and installs the re-tagged wheels", async () => {
    const cache = fresh("cache");
    const prefix = fresh("foreign");
    const environment = await buildSpecEnvironment({
      spec: { requirements: ["cp-spec"] },
      target: linux312,
      indexUrl: index.url,
      prefix,
      cacheDirectory: cache,
      env: { ...process.env, C_PACK_PYPI_URL: "" },
    });
    expect(environment.lock.wheels.map((w) => w.file)).toEqual([
      "cp_dep-1.0-cp312-cp312-manylinux2014_x86_64.whl",
      "cp_spec-2.0-cp312-cp312-manylinux2014_x86_64.whl",
    ]);
    for (const wheel of environment.lock.wheels) {
      expect(wheel.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\//);
      expect(wheel.sha256).toBe(await sha256(join(served, wheel.file)));
      expect(await sha256(join(cache, wheel.sha256, wheel.file))).toBe(wheel.sha256);
    }
    expect(environment.lock.target).toEqual(linux312);
    const { distributions } = await readDistributions([environment.sitePackages]);
    expect(distributions.map((d) => `${d.name}==${d.version}`).sort()).toEqual([
      "cp-dep==1.0",
      "cp-spec==2.0",
    ]);
  });

  it("resolves with Debian's pip as well (an older pip's report)", async () => {
    const environment = await buildSpecEnvironment({
      spec: { requirements: ["cp-spec"] },
      target: linux312,
      python: debianPython,
      findLinks: [served],
      noIndex: true,
      prefix: fresh("debian"),
      cacheDirectory: fresh("cache"),
    });
    expect(environment.installed.map((wheel) => wheel.name)).toEqual(["cp_dep", "cp_spec"]);
    expect(environment.lock.wheels.map((wheel) => wheel.url)).toEqual([
      pathToFileURL(join(served, "cp_dep-1.0-cp312-cp312-manylinux2014_x86_64.whl")).href,
      pathToFileURL(join(served, "cp_spec-2.0-cp312-cp312-manylinux2014_x86_64.whl")).href,
    ]);
  });

  it("refuses when only wheels for another target exist, naming their files and tags", async () => {
    await expect(
      buildSpecEnvironment({
        spec: { requirements: ["cp-dep"] },
        target: { platforms: ["manylinux2014_x86_64"], pythonVersion: "3.11", implementation: "cp" },
        indexUrl: index.url,
        prefix: fresh("misfit"),
        cacheDirectory: fresh("cache"),
      }),
    ).rejects.toThrow(
      /no wheel of cp-dep fits the target \(platform manylinux2014_x86_64, Python 3\.11, implementation cp\): cp_dep-1\.0-cp312-cp312-macosx_11_0_arm64\.whl does not fit the target \(tags cp312-cp312-macosx_11_0_arm64: .*\); cp_dep-1\.0-cp312-cp312-manylinux2014_x86_64\.whl does not fit the target \(tags cp312-cp312-manylinux2014_x86_64: built for Python cp312, not 3\.11\)/,
    );
  });

  it("refuses a project the index has only as a source distribution", async () => {
    await expect(
      buildSpecEnvironment({
        spec: { requirements: ["cp-sdist-only"] },
        target: linux312,
        findLinks: [served],
        noIndex: true,
        prefix: fresh("sdist"),
        cacheDirectory: fresh("cache"),
      }),
    ).rejects.toThrow(
      "cp_sdist_only-1.0.tar.gz is a source distribution: build a wheel first (pip wheel …) and give it with --find-links",
    );
  });

  it("replays a lock offline from the cache into the same tree, without resolving", async () => {
    const cache = fresh("cache");
    const first = await buildSpecEnvironment({
      spec: { requirements: ["cp-spec"] },
      target: linux312,
      findLinks: [served],
      noIndex: true,
      prefix: fresh("locked"),
      cacheDirectory: cache,
    });
    const lockFile = join(root, `lock-${sequence}.json`);
    await writeFile(lockFile, formatLock(first.lock));
    // No index and no interpreter at all: a replay must not resolve, only take the wheels from the cache.
    const replay = await buildSpecEnvironment({
      spec: { lockFile },
      python: "/nonexistent/python",
      noIndex: true,
      prefix: fresh("replayed"),
      cacheDirectory: cache,
    });
    expect(replay.lock).toEqual(first.lock);
    expect(await treeOf(replay.prefix)).toEqual(await treeOf(first.prefix));
    // A damaged cached wheel is fetched again from its recorded URL (a file here), sha256 checked.
    const [wheel] = first.lock.wheels;
    if (!wheel) throw new Error("no wheel locked");
    const cached = join(cache, wheel.sha256, wheel.file);
    await chmod(cached, 0o644);
    await writeFile(cached, "damaged");
    const again = await buildSpecEnvironment({
      spec: { lockFile },
      prefix: fresh("refetched"),
      cacheDirectory: cache,
    });
    expect(await treeOf(again.prefix)).toEqual(await treeOf(first.prefix));
    expect(await sha256(cached)).toBe(wheel.sha256);
  });

  it("refuses a missing lock file in one line", async () => {
    await expect(
      buildSpecEnvironment({ spec: { lockFile: join(root, "missing.lock") }, prefix: fresh("nolock") }),
    ).rejects.toThrow(/missing\.lock: lock file: no such file \(write one with --lock-out\)/);
  });
});
