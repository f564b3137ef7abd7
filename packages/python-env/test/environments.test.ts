import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildWheel,
  createCondaStylePrefix,
  createVenv,
  debianPython,
  installEditable,
  machinePython,
  pipInstall,
  pythonFacts,
  type Venv,
  writeProject,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildRequirementSet,
  checkPlatformCompatibility,
  formatRequirements,
  inspectEnvironment,
  listCondaPackages,
  listDistributions,
  normalizeName,
  probeInterpreter,
} from "../src/index.js";
import { importlibDistributions, pipList, pythonAnswer } from "./ground-truth.js";

let root: string;
let pureWheel: string;
let nativeWheel: string;
let machineVenv: Venv;
let debianVenv: Venv;
let condaPrefix: Venv;
let goneProject: string;

const pure = {
  name: "Cp_Pure.Lib",
  version: "1.2.0",
  files: { "cp_pure/__init__.py": "VALUE = 1\n", "cp_pure/cli.py": "def main():\n    print('hi')\n" },
  consoleScripts: { "cp-pure": "cp_pure.cli:main" },
  requires: ["packaging-not-needed; python_version < '3'"],
};
const native = {
  name: "cp-native",
  version: "0.3.1",
  files: { "cp_native/__init__.py": "" },
  cExtension: { package: "cp_native", name: "fast" },
};

const sorted = (pairs: Array<[string, string]>) =>
  pairs.map(([name, version]) => `${normalizeName(name)}==${version}`).sort();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-python-env-"));
  const wheels = join(root, "wheels");
  pureWheel = await buildWheel(pure, wheels);
  nativeWheel = await buildWheel(native, wheels);
  const devProject = join(root, "dev-project");
  goneProject = join(root, "gone-project");
  await Promise.all([
    writeProject({ name: "cp-dev", version: "0.0.1", files: { "cp_dev/__init__.py": "" } }, devProject, {
      pyproject: true,
    }),
    writeProject({ name: "cp-gone", version: "0.0.2", files: { "cp_gone/__init__.py": "" } }, goneProject, {
      pyproject: true,
    }),
  ]);
  [machineVenv, debianVenv, condaPrefix] = await Promise.all([
    createVenv(machinePython, join(root, "machine-venv")).then(async (venv) => {
      await pipInstall(venv, [pureWheel, nativeWheel]);
      await installEditable(venv, devProject, "pep660");
      await installEditable(venv, goneProject, "pep660");
      return venv;
    }),
    createVenv(debianPython, join(root, "debian-venv"), { systemSitePackages: true }).then(async (venv) => {
      await pipInstall(venv, [pureWheel]);
      return venv;
    }),
    createCondaStylePrefix(join(root, "conda-env"), [
      { name: "python", version: "3.11.7", build: "h955ad1f_0" },
      { name: "openssl", version: "3.2.1", build: "hd590300_0", files: ["lib/libssl.so.3"] },
    ]).then(async (prefix) => {
      await pipInstall(prefix, [pureWheel]);
      return prefix;
    }),
  ]);
  // An editable whose project was deleted after installing: pip still lists it, importing it fails.
  await rm(goneProject, { recursive: true, force: true });
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the interpreter probe", () => {
  it.each([
    ["the machine's python3 venv", () => machineVenv],
    ["Debian's python3 venv", () => debianVenv],
    ["a conda-style prefix", () => condaPrefix],
  ])("reports what sysconfig and sys say in %s", async (_, venv) => {
    const { python } = venv();
    const interpreter = await probeInterpreter(python);
    const truth = await pythonAnswer<Record<string, string>>(
      python,
      `{"version": platform.python_version(), "prefix": sys.prefix, "base": sys.base_prefix, "purelib": sysconfig.get_paths()["purelib"], "platform": platform.platform(), "executable": sys.executable}`,
    );
    const facts = await pythonFacts(python);
    expect(interpreter).toMatchObject({
      version: truth.version,
      prefix: truth.prefix,
      basePrefix: truth.base,
      executable: truth.executable,
      platform: truth.platform,
      implementation: "cpython",
      pythonTag: facts.pythonTag,
      abiTag: facts.abiTag,
    });
    expect(interpreter.paths.purelib).toBe(truth.purelib);
    expect(interpreter.sitePackages[0]).toBe(venv().sitePackages);
  });

  it("tells venvs, conda prefixes and plain installations apart", async () => {
    const kinds = await Promise.all(
      [machineVenv.python, condaPrefix.python, debianPython].map(
        async (python) => (await probeInterpreter(python)).kind,
      ),
    );
    expect(kinds).toEqual(["venv", "conda", "system"]);
  });

  it("puts a --system-site-packages venv's base directories apart from its own", async () => {
    const interpreter = await probeInterpreter(debianVenv.python);
    expect(interpreter.sitePackages).toEqual([debianVenv.sitePackages]);
    expect(interpreter.systemSitePackages).toContain("/usr/lib/python3/dist-packages");
  });

  it("accepts the glibc manylinux levels the interpreter's libc provides", async () => {
    const interpreter = await probeInterpreter(machineVenv.python);
    const glibc = await pythonAnswer<string>(
      machineVenv.python,
      `__import__("os").confstr("CS_GNU_LIBC_VERSION")`,
    );
    const [major, minor] = glibc.replace("glibc ", "").split(".");
    const { machine } = await pythonFacts(machineVenv.python);
    expect(interpreter.target.glibcVersion).toBe(`${major}.${minor}`);
    expect(interpreter.platformTags[0]).toBe(`manylinux_${major}_${minor}_${machine}`);
    expect(interpreter.platformTags).toContain(`manylinux2014_${machine}`);
    expect(interpreter.platformTags.at(-1)).toBe("any");
  });
});

describe("installed distributions", () => {
  async function listed(venv: Venv, includeSystem = false) {
    return listDistributions(await probeInterpreter(venv.python), { includeSystem });
  }

  it("lists the same distributions and versions as pip list -l", async () => {
    for (const venv of [machineVenv, debianVenv, condaPrefix]) {
      const { distributions } = await listed(venv);
      expect(sorted(distributions.map((d) => [d.name, d.version]))).toEqual(
        sorted(await pipList(venv.python, ["-l"])),
      );
    }
  });

  it("lists the whole pyenv installation as pip list -l does", async () => {
    const { distributions } = await listDistributions(await probeInterpreter(machinePython));
    expect(sorted(distributions.map((d) => [d.name, d.version]))).toEqual(
      sorted(await pipList(machinePython, ["-l"])),
    );
  });

  it("reads the system site-packages of a --system-site-packages venv only on request, as importlib sees them", async () => {
    const own = await listed(debianVenv);
    expect(own.distributions.map((d) => d.normalizedName)).not.toContain("cryptography");
    const all = await listed(debianVenv, true);
    const truth = new Set(
      (await importlibDistributions(debianVenv.python)).map((d) => `${normalizeName(d.name)}==${d.version}`),
    );
    expect(new Set(all.distributions.map((d) => `${d.normalizedName}==${d.version}`))).toEqual(truth);
    // The venv's own copy shadows the base's, as on sys.path.
    expect(all.distributions.find((d) => d.normalizedName === "cp-pure-lib")?.sitePackages).toBe(
      debianVenv.sitePackages,
    );
  });

  it("reads RECORD, requirements and the display name as importlib.metadata does", async () => {
    const { distributions } = await listed(machineVenv);
    const truth = await importlibDistributions(machineVenv.python);
    for (const distribution of distributions) {
      const expected = truth.find((d) => normalizeName(d.name) === distribution.normalizedName);
      expect(distribution.name).toBe(expected?.name);
      expect(distribution.files?.map((f) => f.path)).toEqual(expected?.files);
      expect(distribution.requiresDist).toEqual(expected?.requires ?? []);
    }
    const pureDistribution = distributions.find((d) => d.normalizedName === "cp-pure-lib");
    expect(pureDistribution).toMatchObject({ name: "Cp-Pure.Lib", installer: "pip", topLevel: ["cp_pure"] });
    expect(pureDistribution?.wheelTags).toEqual(["py3-none-any"]);
    const init = pureDistribution?.files?.find((f) => f.path === "cp_pure/__init__.py");
    expect(init).toEqual({
      path: "cp_pure/__init__.py",
      hash: expect.stringMatching(/^sha256=[\w-]{43}$/),
      size: 10,
    });
  });

  it("reads the platform tag of a wheel with a C extension, which runs here and not on macOS", async () => {
    const interpreter = await probeInterpreter(machineVenv.python);
    const { distributions } = await listDistributions(interpreter);
    const nativeDistribution = distributions.find((d) => d.normalizedName === "cp-native");
    // buildWheel compiles with Debian's Python: the wheel is tagged for it and this machine.
    const builder = await pythonFacts(debianPython);
    const wheelTag = `${builder.pythonTag}-${builder.abiTag}-${builder.platformTag}`;
    expect(nativeDistribution?.wheelTags).toEqual([wheelTag]);
    expect(nativeDistribution?.topLevel).toEqual(["cp_native"]);
    expect(checkPlatformCompatibility(distributions, interpreter.target)).toEqual([]);
    const mac = { ...interpreter.target, os: "darwin", machine: "arm64", macosVersion: "14.2" };
    const { glibcVersion: _, ...macTarget } = mac;
    expect(checkPlatformCompatibility(distributions, macTarget)).toEqual([
      {
        name: "cp-native",
        version: "0.3.1",
        wheelTags: [wheelTag],
        detail: `built for ${builder.platformTag}, which darwin arm64 (macOS 14.2) cannot load`,
      },
    ]);
  });

  it("marks PEP 610 editables with their project directory, as pip list --editable does", async () => {
    const { distributions } = await listed(machineVenv);
    const editables = distributions.filter((d) => d.editable);
    expect(sorted(editables.map((d) => [d.name, d.version]))).toEqual(
      sorted(await pipList(machineVenv.python, ["-l", "--editable"])),
    );
    expect(editables.find((d) => d.name === "cp-dev")?.editableLocation).toBe(join(root, "dev-project"));
  });

  it("reports an editable whose project directory was deleted, and lists the rest", async () => {
    const { distributions, problems } = await listed(machineVenv);
    expect(distributions.map((d) => d.name)).toContain("cp-gone");
    expect(problems).toEqual([
      {
        path: expect.stringMatching(/cp_gone-0\.0\.2\.dist-info$/),
        name: "cp-gone",
        detail: `editable install of cp-gone points at ${goneProject}, which no longer exists (reinstall or uninstall it)`,
        editable: true,
      },
    ]);
  });

  it("reads the conda records of a conda-style prefix", async () => {
    const packages = await listCondaPackages(condaPrefix.prefix);
    expect(packages.map((p) => `${p.name}=${p.version}=${p.build}`)).toEqual([
      "openssl=3.2.1=hd590300_0",
      "python=3.11.7=h955ad1f_0",
    ]);
    expect(await listCondaPackages(machineVenv.prefix)).toEqual([]);
  });
});

describe("the requirement set", () => {
  it("is what pip list -l --exclude-editable reports, as cluster-pack packs it", async () => {
    const { distributions } = await listDistributions(await probeInterpreter(machineVenv.python));
    const requirements = await buildRequirementSet(distributions);
    const truth = await pipList(machineVenv.python, ["-l", "--exclude-editable"]);
    expect(formatRequirements(requirements).sort()).toEqual(truth.map(([n, v]) => `${n}==${v}`).sort());
  });

  it("gives the same fingerprint for two identical environments built from the same wheels", async () => {
    const [a, b] = await Promise.all(
      [join(root, "twin-a"), join(root, "twin-b")].map(async (prefix) => {
        const venv = await createVenv(machinePython, prefix);
        await pipInstall(venv, [pureWheel, nativeWheel]);
        return inspectEnvironment({ python: venv.python });
      }),
    );
    expect(a?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(a?.fingerprint).toBe(b?.fingerprint);
    const machine = await inspectEnvironment({ python: machineVenv.python });
    // The machine venv only adds editables, which are not packed: same fingerprint.
    expect(machine.fingerprint).toBe(a?.fingerprint);
    const debian = await inspectEnvironment({ python: debianVenv.python });
    expect(debian.fingerprint).not.toBe(a?.fingerprint);
  }, 60_000);
});
