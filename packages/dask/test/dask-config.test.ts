import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import { describe, expect, it } from "vitest";
import { DASK_YARN_WORKER_CODE, daskConfig, daskYarnSpec, toDaskCommandLine } from "../src/index.js";

const pex = getPyenvUsageFromArchive("s3://team/envs/analytics.pex");
const pexZip = getPyenvUsageFromArchive("hdfs:///envs/analytics.pex.zip");
const venv = getPyenvUsageFromArchive("hdfs:///envs/venv.tar.gz");
const editable = [{ name: "my_project", uri: "s3://team/envs/analytics_editable/my_project.zip" }];
const editableIndex = "s3://team/envs/analytics_editable/editable_packages_index";

describe("daskConfig", () => {
  it("runs the scheduler and the worker with the environment's interpreter", () => {
    const { scheduler, worker } = daskConfig(pex, {
      schedulerAddress: "tcp://10.0.0.5:8786",
      schedulerArgs: ["--port", "8786"],
      workerArgs: ["--nthreads", "4"],
    });
    expect(scheduler.command).toEqual([
      "./analytics.pex",
      "-m",
      "distributed.cli.dask_scheduler",
      "--port",
      "8786",
    ]);
    expect(worker.command).toEqual([
      "./analytics.pex",
      "-m",
      "distributed.cli.dask_worker",
      "tcp://10.0.0.5:8786",
      "--nthreads",
      "4",
    ]);
  });

  it.each([
    { layout: "the unpack layout", env: pexZip, python: "pyenv/__main__.py", name: "pyenv" },
    { layout: "a venv archive", env: venv, python: "environment/bin/python", name: "environment" },
  ])("unpacks $layout under its alias and runs its interpreter", ({ env, python, name }) => {
    const { worker } = daskConfig(env, { schedulerAddress: "tcp://s:8786" });
    expect(worker.command[0]).toBe(python);
    expect(worker.files).toEqual({
      [name]: { source: env.pathToArchive, type: "archive", visibility: "application" },
    });
  });

  it("lists the files a node needs: the zipapp as a file, editable zips and their index, s3 read as s3a", () => {
    const { worker, scheduler } = daskConfig(pex, { editable, editableIndex });
    expect(worker.files).toEqual({
      "analytics.pex": { source: "s3a://team/envs/analytics.pex", type: "file", visibility: "application" },
      "my_project.zip": {
        source: "s3a://team/envs/analytics_editable/my_project.zip",
        type: "archive",
        visibility: "application",
      },
      editable_packages_index: {
        source: `s3a${editableIndex.slice(2)}`,
        type: "file",
        visibility: "application",
      },
    });
    expect(scheduler.files).toEqual(worker.files);
  });

  it("sets PEX_ROOT inside the working directory and the editable code on PYTHONPATH", () => {
    const { worker } = daskConfig(pex, { editable });
    expect(worker.environmentVariables).toEqual({ PEX_ROOT: "./.pex", PYTHONPATH: ".:my_project.zip" });
  });

  it("adds the given variables, keeping their PEX_ROOT and PYTHONPATH entries", () => {
    const { worker } = daskConfig(pex, {
      editable,
      env: { PEX_ROOT: "/scratch/pex", PYTHONPATH: "/opt/lib", MODE: "two words" },
    });
    expect(worker.environmentVariables).toEqual({
      PEX_ROOT: "/scratch/pex",
      MODE: "two words",
      PYTHONPATH: ".:my_project.zip:/opt/lib",
    });
    expect(worker.script).toBe(
      [
        "export PEX_ROOT=/scratch/pex",
        "export PYTHONPATH=/opt/lib",
        "export MODE='two words'",
        `export PYTHONPATH=".:my_project.zip\${PYTHONPATH:+:$PYTHONPATH}"`,
        "exec ./analytics.pex -m distributed.cli.dask_worker",
        "",
      ].join("\n"),
    );
  });

  it("connects through the scheduler file when no address is given, and the address wins over it", () => {
    const byFile = daskConfig(pex, { schedulerFile: "/shared/scheduler.json" });
    expect(byFile.scheduler.command.slice(3)).toEqual(["--scheduler-file", "/shared/scheduler.json"]);
    expect(byFile.worker.command.slice(3)).toEqual(["--scheduler-file", "/shared/scheduler.json"]);
    const both = daskConfig(pex, {
      schedulerFile: "/shared/scheduler.json",
      schedulerAddress: "tcp://s:8786",
    });
    expect(both.worker.command.slice(3)).toEqual(["tcp://s:8786"]);
  });

  it("leaves the address to DASK_SCHEDULER_ADDRESS on the node when neither is given", () => {
    expect(daskConfig(pex).worker.command).toEqual(["./analytics.pex", "-m", "distributed.cli.dask_worker"]);
  });

  it("renders a command line a shell runs as is", () => {
    const { worker } = daskConfig(pex, { editable, schedulerAddress: "tcp://s:8786", env: { MODE: "a b" } });
    expect(toDaskCommandLine(worker)).toBe(
      "PEX_ROOT=./.pex MODE='a b' PYTHONPATH=.:my_project.zip ./analytics.pex -m distributed.cli.dask_worker tcp://s:8786\n",
    );
  });

  it("runs a conda archive's conda-unpack before the scheduler and the worker, in their scripts and command lines", () => {
    const condaUnpack = "if [ -x environment/bin/conda-unpack ]; then environment/bin/conda-unpack; fi";
    const { scheduler, worker } = daskConfig(venv, { schedulerAddress: "tcp://s:8786" });
    for (const process of [scheduler, worker]) {
      expect(process.setupCommand).toBe(condaUnpack);
      expect(process.script.split("\n")[0]).toBe(`${condaUnpack} || exit`);
    }
    expect(toDaskCommandLine(worker)).toBe(
      `${condaUnpack} && PEX_ROOT=./.pex PYTHONPATH=. environment/bin/python -m distributed.cli.dask_worker tcp://s:8786\n`,
    );
    expect(daskConfig(pex).worker).not.toHaveProperty("setupCommand");
    expect(daskConfig(pexZip).worker).not.toHaveProperty("setupCommand");
  });

  it("refuses a variable name a shell cannot export, in one line", () => {
    expect(() => daskConfig(pex, { env: { "MY-VAR": "x" } })).toThrow(
      "env.MY-VAR: not an environment variable name: use letters, digits and _",
    );
  });

  it("refuses an editable name that is not an import name", () => {
    expect(() => daskConfig(pex, { editable: [{ name: "my-project", uri: "s3://b/x.zip" }] })).toThrow(
      /my-project" is not an import name/,
    );
  });
});

describe("daskYarnSpec", () => {
  it("has dask-yarn's two services, the worker waiting for the scheduler, with dask-yarn's defaults", () => {
    const spec = daskYarnSpec(pex, { editable, editableIndex });
    expect(spec).toMatchObject({ name: "dask", queue: "default", max_attempts: 1 });
    expect(Object.keys(spec.services)).toEqual(["dask.scheduler", "dask.worker"]);
    const scheduler = spec.services["dask.scheduler"];
    const worker = spec.services["dask.worker"];
    expect(scheduler).toMatchObject({
      instances: 1,
      max_restarts: 0,
      resources: { memory: "2 GiB", vcores: 1 },
    });
    expect(worker).toMatchObject({
      instances: 0,
      max_restarts: -1,
      resources: { memory: "2 GiB", vcores: 1 },
      depends: ["dask.scheduler"],
    });
    const files = daskConfig(pex, { editable, editableIndex }).worker.files;
    expect(scheduler?.files).toEqual(files);
    expect(worker?.files).toEqual(files);
  });

  it("starts dask-yarn's scheduler and a worker in the environment, in the container's PEX_ROOT", () => {
    const spec = daskYarnSpec(pex, { editable, workerArgs: ["--nthreads", "2"] });
    expect(spec.services["dask.scheduler"]?.script).toBe(
      [
        "export PEX_ROOT=./.pex",
        `export PYTHONPATH=".:my_project.zip\${PYTHONPATH:+:$PYTHONPATH}"`,
        "exec ./analytics.pex -m dask_yarn.cli services scheduler",
        "",
      ].join("\n"),
    );
    const workerScript = spec.services["dask.worker"]?.script ?? "";
    expect(workerScript).toContain(`exec ./analytics.pex -c '${DASK_YARN_WORKER_CODE}' --nthreads 2\n`);
    expect(DASK_YARN_WORKER_CODE).toContain('kv.wait("dask.scheduler")');
  });

  it("runs a conda archive's conda-unpack first in both services", () => {
    const spec = daskYarnSpec(venv);
    for (const service of Object.values(spec.services))
      expect(service.script).toMatch(
        /^if \[ -x environment\/bin\/conda-unpack \]; then environment\/bin\/conda-unpack; fi \|\| exit\n/,
      );
  });

  it("leaves the scheduler to the launching process in local deploy mode", () => {
    const spec = daskYarnSpec(venv, { deployMode: "local", workers: 3 });
    expect(Object.keys(spec.services)).toEqual(["dask.worker"]);
    expect(spec.services["dask.worker"]).toMatchObject({ instances: 3 });
    expect(spec.services["dask.worker"]).not.toHaveProperty("depends");
  });

  it("passes sizes, restarts, environment and application settings through", () => {
    const spec = daskYarnSpec(pex, {
      name: "etl",
      queue: "batch",
      tags: ["nightly"],
      workers: 4,
      workerResources: { memory: "8 GiB", vcores: 4 },
      schedulerResources: { memory: 1024, vcores: 1 },
      workerRestarts: 2,
      workerEnv: { OMP_NUM_THREADS: "1" },
    });
    expect(spec).toMatchObject({ name: "etl", queue: "batch", tags: ["nightly"] });
    expect(spec.services["dask.scheduler"]?.resources).toEqual({ memory: 1024, vcores: 1 });
    expect(spec.services["dask.worker"]).toMatchObject({
      instances: 4,
      max_restarts: 2,
      resources: { memory: "8 GiB", vcores: 4 },
      env: { OMP_NUM_THREADS: "1" },
    });
  });

  it("names the store's file systems outside Hadoop's default one, after the given ones, each once", () => {
    const defaultFileSystem = "hdfs://main-nn:8020";
    expect(daskYarnSpec(venv, { defaultFileSystem })).not.toHaveProperty("file_systems");
    const elsewhere = getPyenvUsageFromArchive("hdfs://other-nn:8020/envs/venv.tar.gz");
    expect(
      daskYarnSpec(elsewhere, {
        defaultFileSystem,
        editable,
        editableIndex,
        fileSystems: ["viewfs://cluster"],
      }).file_systems,
    ).toEqual(["viewfs://cluster", "hdfs://other-nn:8020", "s3a://team"]);
    expect(daskYarnSpec(pex, { defaultFileSystem, fileSystems: ["s3a://team"] }).file_systems).toEqual([
      "s3a://team",
    ]);
  });

  it("refuses what skein would refuse, naming the field", () => {
    expect(() => daskYarnSpec(pex, { workerResources: { memory: "2 GiB", vcores: 0 } })).toThrow(
      /^services\.dask\.worker\.resources\.vcores: must be an integer ≥ 1, got 0$/,
    );
  });
});
