// Plays YARN's part for the emitted Spark configuration: localizes what the properties list into a container
// directory the way a NodeManager does (files, archives under their #alias, pyFiles on PYTHONPATH), then runs the
// configured Python there with the configured environment, as an executor (and a cluster-mode driver) would.
import { mkdtemp, realpath, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import {
  createShippableVenv,
  type LocalizedContainer,
  parseWhereFrom,
  type RunningS3rver,
  s3StorageOptions,
  startS3rver,
  type Venv,
  whereFrom,
} from "@cluster-pack/testkit";
import { type UploadedEnv, uploadEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SparkConfig, type SparkDeployMode, sparkConfig } from "../src/index.js";
import {
  containerResources,
  envWithPrefix,
  execInContainer,
  localizeSparkContainer,
} from "./yarn-container.js";

let root: string;
let s3: RunningS3rver;
let venv: Venv;
const uploads: Record<"pex" | "pex.zip", UploadedEnv | undefined> = { pex: undefined, "pex.zip": undefined };
const containers: LocalizedContainer[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-spark-container-"));
  s3 = await startS3rver({ buckets: ["envs"] });
  ({ venv } = await createShippableVenv(root));
  for (const packer of ["pex", "pex.zip"] as const)
    uploads[packer] = await uploadEnv({
      python: venv.python,
      packer,
      packagePath: `s3://envs/spark/analytics.${packer}`,
      fsArgs: s3StorageOptions(s3),
    });
}, 180_000);

afterAll(async () => {
  for (const container of containers) await container.cleanup();
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

/** Localizes a YARN container for the configuration, which must list only s3a URIs. */
async function yarnContainer(config: SparkConfig) {
  for (const { source } of containerResources(config.properties).resources)
    expect(source).toMatch(/^s3a:\/\//);
  const localized = await localizeSparkContainer(config, s3);
  containers.push(localized.container);
  return localized;
}

/** Runs `whereFrom` with a Python of the configuration in the container, in the environment YARN gives it. */
async function runInContainer(
  directory: string,
  python: string,
  containerEnv: Record<string, string>,
  pythonPath: string,
) {
  const env = { ...containerEnv, PYTHONPATH: pythonPath };
  const outcome = await execInContainer(directory, python, ["-c", whereFrom], env, join(root, "no-home"));
  expect(outcome.stderr).toBe("");
  expect(outcome.code).toBe(0);
  return parseWhereFrom(outcome.stdout);
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
