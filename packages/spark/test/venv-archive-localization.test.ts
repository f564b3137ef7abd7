// The Spark configuration for venv and conda archives, played out as YARN would: what it lists is localized into
// a container directory as a NodeManager does (the archive unpacked under its #alias, read-only), then the
// configured PYSPARK_PYTHON runs there with only the environment the configuration gives it.
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import {
  createCondaStylePrefix,
  createShippableVenv,
  installDevProject,
  type LocalizedContainer,
  parseWhereFrom,
  pipInstall,
  type RunningS3rver,
  s3StorageOptions,
  startS3rver,
  whereFrom,
} from "@cluster-pack/testkit";
import { type UploadedEnv, uploadEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SparkConfig, sparkConfig } from "../src/index.js";
import { envWithPrefix, execInContainer, localizeSparkContainer } from "./yarn-container.js";

let root: string;
let s3: RunningS3rver;
const uploads: Record<string, UploadedEnv> = {};
/** Each upload's site-packages relative to the environment's root (`lib/python3.X/site-packages`), as built. */
const sitePackages: Record<string, string> = {};
const containers: LocalizedContainer[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-spark-env-archives-"));
  s3 = await startS3rver({ buckets: ["envs"] });
  // Both environments hold the wheel package and the project in development mode, as the ones users ship.
  const { venv, wheels } = await createShippableVenv(root);
  const conda = await createCondaStylePrefix(join(root, "conda", "envs", "analytics"), [], undefined, {
    recordPython: true,
  });
  await pipInstall(conda, ["purepkg"], [join(wheels, "purepkg")]);
  await installDevProject(conda, join(root, "devpkg-conda"));
  const fsArgs = s3StorageOptions(s3);
  sitePackages.venv = relative(venv.prefix, venv.sitePackages);
  sitePackages["venv --with-python (zip)"] = relative(venv.prefix, venv.sitePackages);
  sitePackages.conda = relative(conda.prefix, conda.sitePackages);
  uploads.venv = await uploadEnv({ python: venv.python, packagePath: "s3://envs/spark/venv.tar.gz", fsArgs });
  uploads["venv --with-python (zip)"] = await uploadEnv({
    python: venv.python,
    packagePath: "s3://envs/spark/bundled.zip",
    withPython: true,
    fsArgs,
  });
  uploads.conda = await uploadEnv({
    python: conda.python,
    packagePath: "s3://envs/spark/conda.tar.gz",
    fsArgs,
  });
}, 240_000);

afterAll(async () => {
  for (const container of containers) await container.cleanup();
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

const executorEnvOf = (properties: Record<string, string>) => envWithPrefix(properties, "spark.executorEnv.");

async function executorContainer(config: SparkConfig) {
  const localized = await localizeSparkContainer(config, s3);
  containers.push(localized.container);
  return localized;
}

const runInContainer = (directory: string, command: string, args: string[], env: Record<string, string>) =>
  execInContainer(directory, command, args, env, join(root, "no-home"));

describe.each(["venv", "venv --with-python (zip)", "conda"])("Spark on YARN with a %s archive", (name) => {
  let config: SparkConfig;
  let uploaded: UploadedEnv;

  beforeAll(() => {
    uploaded = uploads[name] as UploadedEnv;
    config = sparkConfig(getPyenvUsageFromArchive(uploaded.packagePath), {
      master: "yarn",
      deployMode: "cluster",
      editable: uploaded.editable,
      processEnv: { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: s3.region },
    });
  });

  it("ships the archive to be unpacked as environment and runs environment/bin/python", () => {
    const archive = uploaded.packagePath.replace(/^s3:/, "s3a:");
    expect(config.properties["spark.yarn.dist.archives"]).toBe(`${archive}#environment`);
    expect(config.properties["spark.pyspark.python"]).toBe("environment/bin/python");
    expect(config.properties["spark.yarn.appMasterEnv.PYSPARK_PYTHON"]).toBe("environment/bin/python");
  });

  it("runs PYSPARK_PYTHON in an executor container with the wheel from the archive and the editable zip", async () => {
    const { container, pythonPath } = await executorContainer(config);
    const outcome = await runInContainer(
      container.directory,
      config.properties["spark.pyspark.python"] ?? "",
      ["-c", whereFrom],
      { ...executorEnvOf(config.properties), PYTHONPATH: pythonPath },
    );
    expect(outcome).toMatchObject({ code: 0, stderr: "" });
    const found = parseWhereFrom(outcome.stdout);
    expect(found.values).toEqual(["wheel", "dev"]);
    const unpacked = await realpath(join(container.directory, "environment"));
    expect(await realpath(found.prefix)).toBe(unpacked);
    expect(await realpath(found.purepkg)).toBe(
      join(unpacked, sitePackages[name] ?? "", "purepkg", "__init__.py"),
    );
    expect(found.devpkg).toBe(join(container.directory, "devpkg.zip", "devpkg", "__init__.py"));
  });
});

describe("Spark on YARN with a conda archive whose files need its path", () => {
  it("runs conda-unpack in the read-only localized archive before Python, as a container command would", async () => {
    const uploaded = uploads.conda as UploadedEnv;
    const config = sparkConfig(getPyenvUsageFromArchive(uploaded.packagePath), {
      master: "yarn",
      editable: uploaded.editable,
      processEnv: { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: s3.region },
    });
    const { container, pythonPath } = await executorContainer(config);
    const unpacked = await runInContainer(container.directory, "environment/bin/conda-unpack", [], {});
    expect(unpacked).toMatchObject({ code: 0, stderr: "" });
    const outcome = await runInContainer(container.directory, "environment/bin/python", ["-c", whereFrom], {
      PYTHONPATH: pythonPath,
    });
    expect(outcome).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(outcome.stdout).values).toEqual(["wheel", "dev"]);
  });
});
