// Plays YARN's part for the emitted Spark configuration: localizes what the properties list into a container
// directory the way a NodeManager does (files, archives under their #alias, pyFiles on PYTHONPATH), then runs the
// configured Python there with the configured environment, as an executor (and a cluster-mode driver) would.
import { mkdtemp, realpath, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { basenameOf, getPyenvUsageFromArchive, splitCommaList } from "@cluster-pack/env-usage";
import {
  buildWheel,
  createVenv,
  execute,
  installEditable,
  type LocalizedContainer,
  localizeContainer,
  machinePython,
  pipInstall,
  type RunningS3rver,
  startS3rver,
  type Venv,
  writeProject,
} from "@cluster-pack/testkit";
import { type UploadedEnv, uploadEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SparkConfig, type SparkDeployMode, sparkConfig } from "../src/index.js";

let root: string;
let s3: RunningS3rver;
let venv: Venv;
const uploads: Record<"pex" | "pex.zip", UploadedEnv | undefined> = { pex: undefined, "pex.zip": undefined };
const containers: LocalizedContainer[] = [];

// Prints where the interpreter and both packages came from: the wheel package and the editable project.
const whereFrom = `import json, sys, purepkg, devpkg
print(json.dumps({"executable": sys.executable, "purepkg": purepkg.__file__, "devpkg": devpkg.__file__,
                  "values": [purepkg.VALUE, devpkg.STATE]}))`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-spark-container-"));
  s3 = await startS3rver({ buckets: ["envs"] });
  const wheels = join(root, "wheels");
  await buildWheel(
    { name: "purepkg", version: "1.0", files: { "purepkg/__init__.py": 'VALUE = "wheel"\n' } },
    wheels,
  );
  venv = await createVenv(machinePython, join(root, "venv"));
  await pipInstall(venv, ["purepkg"], [wheels]);
  const project = join(root, "devpkg");
  await writeProject(
    { name: "devpkg", version: "0.1", files: { "devpkg/__init__.py": 'STATE = "dev"\n' } },
    project,
    { pyproject: true },
  );
  await installEditable(venv, project, "pep660");
  const fsArgs = {
    s3: {
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    },
  };
  for (const packer of ["pex", "pex.zip"] as const)
    uploads[packer] = await uploadEnv({
      python: venv.python,
      packer,
      packagePath: `s3://envs/spark/analytics.${packer}`,
      fsArgs,
    });
}, 180_000);

afterAll(async () => {
  for (const container of containers) await container.cleanup();
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

/** The `uri#alias` entries of a comma-separated property, as YARN names them in the container. */
const resourcesOf = (list: string | undefined, type: "file" | "archive") =>
  splitCommaList(list).map((entry) => {
    const [source = "", alias] = entry.split("#");
    return { source, name: alias ?? basenameOf(source), type };
  });

/** The variables a prefix gives a container (`spark.executorEnv.`, `spark.yarn.appMasterEnv.`). */
const envWithPrefix = (properties: Record<string, string>, prefix: string) =>
  Object.fromEntries(
    Object.entries(properties)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );

/** Localizes a YARN container for the configuration, reading S3 with the s3a settings it emitted. */
async function yarnContainer(config: SparkConfig) {
  const { properties } = config;
  const pyFiles = resourcesOf(properties["spark.submit.pyFiles"], "file");
  const resources = [
    ...resourcesOf(properties["spark.yarn.dist.files"], "file"),
    ...resourcesOf(properties["spark.yarn.dist.archives"], "archive"),
    ...pyFiles,
  ];
  for (const { source } of resources) expect(source).toMatch(/^s3a:\/\//);
  const container = await localizeContainer(resources, {
    storage: {
      s3: {
        endpoint: properties["spark.hadoop.fs.s3a.endpoint"],
        forcePathStyle: properties["spark.hadoop.fs.s3a.path.style.access"] === "true",
        region: properties["spark.hadoop.fs.s3a.endpoint.region"],
        // What the node's credentials provider finds; the configuration carries none.
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      },
    },
  });
  containers.push(container);
  // Spark on YARN puts each pyFile at {{PWD}}/<name> on the containers' PYTHONPATH.
  const pythonPath = pyFiles.map(({ name }) => join(container.directory, name)).join(":");
  return { container, pythonPath };
}

/** Runs a Python command of the configuration in the container, with only the environment YARN would give it. */
async function runInContainer(
  directory: string,
  python: string,
  containerEnv: Record<string, string>,
  pythonPath: string,
) {
  const outcome = await execute(python, ["-c", whereFrom], {
    cwd: directory,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: join(root, "no-home"),
      ...containerEnv,
      PYTHONPATH: pythonPath,
    },
  });
  expect(outcome.stderr).toBe("");
  expect(outcome.code).toBe(0);
  return JSON.parse(outcome.stdout) as {
    executable: string;
    purepkg: string;
    devpkg: string;
    values: string[];
  };
}

describe.each([
  { packer: "pex" as const, deployMode: "client" as SparkDeployMode },
  { packer: "pex" as const, deployMode: "cluster" as SparkDeployMode },
  { packer: "pex.zip" as const, deployMode: "client" as SparkDeployMode },
  { packer: "pex.zip" as const, deployMode: "cluster" as SparkDeployMode },
])(
  "Spark on YARN, $packer in $deployMode mode, localized as a NodeManager would",
  ({ packer, deployMode }) => {
    let config: SparkConfig;

    beforeAll(() => {
      const uploaded = uploads[packer];
      if (!uploaded) throw new Error(`the ${packer} upload failed`);
      config = sparkConfig(getPyenvUsageFromArchive(uploaded.packagePath), {
        master: "yarn",
        deployMode,
        editable: uploaded.editable,
        driverPython: venv.python,
        processEnv: { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: s3.region },
      });
    });

    it("runs PYSPARK_PYTHON in an executor container with both packages from what was shipped", async () => {
      const { container, pythonPath } = await yarnContainer(config);
      const executorEnv = envWithPrefix(config.properties, "spark.executorEnv.");
      const found = await runInContainer(
        container.directory,
        config.properties["spark.pyspark.python"] ?? "",
        executorEnv,
        pythonPath,
      );
      expect(found.values).toEqual(["wheel", "dev"]);
      const directory = await realpath(container.directory);
      expect(found.devpkg).toBe(join(container.directory, "devpkg.zip", "devpkg", "__init__.py"));
      if (packer === "pex") {
        // Extracted into the container (PEX_ROOT=./.pex), not into a home directory.
        expect(executorEnv.PEX_ROOT).toBe("./.pex");
        const pexRoot = join(directory, ".pex");
        expect(normalize(found.purepkg).slice(0, pexRoot.length)).toBe(pexRoot);
        expect((await stat(join(container.directory, ".pex"))).isDirectory()).toBe(true);
      } else {
        // Used in place from the unpacked archive, reached through the pyenv link.
        expect(await realpath(found.purepkg)).toBe(
          await realpath(join(container.directory, "pyenv", ".deps", "purepkg", "__init__.py")),
        );
      }
    });

    it("runs the driver where the deploy mode puts it", async () => {
      const driverPython = config.properties["spark.pyspark.driver.python"] ?? "";
      if (deployMode === "client") {
        // The driver runs on the launching machine with its own interpreter: the venv the archive was packed from.
        expect(driverPython).toBe(venv.python);
        const found = await runInContainer(await mkdtemp(join(root, "launcher-")), driverPython, {}, "");
        expect(found.values).toEqual(["wheel", "dev"]);
        return;
      }
      // The application master's container: its environment comes from spark.yarn.appMasterEnv.*.
      const { container, pythonPath } = await yarnContainer(config);
      const masterEnv = envWithPrefix(config.properties, "spark.yarn.appMasterEnv.");
      expect(masterEnv.PYSPARK_PYTHON).toBe(driverPython);
      expect(Object.keys(masterEnv)).not.toContain("PYSPARK_DRIVER_PYTHON");
      const found = await runInContainer(container.directory, driverPython, masterEnv, pythonPath);
      expect(found.values).toEqual(["wheel", "dev"]);
      expect(found.devpkg).toBe(join(container.directory, "devpkg.zip", "devpkg", "__init__.py"));
    });
  },
);
