import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import { describe, expect, it } from "vitest";
import {
  psStrategyTopology,
  type Strategy,
  singleServerTopology,
  type Topology,
  tfApplicationSpec,
  tfServices,
  validateTopology,
} from "../src/index.js";

const small = { memory: "2 GiB", vcores: 2 };

describe("validateTopology", () => {
  it.each<[string, Topology, Strategy | undefined]>([
    ["a chief alone", { chief: {} }, undefined],
    ["tf-yarn's single server topology", singleServerTopology(), undefined],
    ["tf-yarn's ps strategy topology", psStrategyTopology(), undefined],
    [
      "chief and workers for MultiWorkerMirroredStrategy",
      { chief: {}, worker: { instances: 4 } },
      "mirrored",
    ],
    [
      "a ps topology when the strategy is inferred",
      { chief: {}, worker: {}, ps: { instances: 2 } },
      undefined,
    ],
    ["a zero-instance ps for the mirrored strategy", { chief: {}, ps: { instances: 0 } }, "mirrored"],
  ])("accepts %s", (_, topology, strategy) => {
    expect(() => validateTopology(topology, strategy)).not.toThrow();
  });

  it.each<[string, Topology, Strategy | undefined, RegExp]>([
    [
      "no chief",
      { worker: { instances: 2 } },
      undefined,
      /^topology\.chief: exactly one chief task is required, got 0/,
    ],
    [
      "two chiefs",
      { chief: { instances: 2 } },
      undefined,
      /^topology\.chief: exactly one chief task is required, got 2/,
    ],
    [
      "two evaluators",
      { chief: {}, evaluator: { instances: 2 } },
      undefined,
      /^topology\.evaluator: at most one evaluator/,
    ],
    [
      "two tensorboards",
      { chief: {}, tensorboard: { instances: 2 } },
      undefined,
      /^topology\.tensorboard: at most one/,
    ],
    [
      "ps under the mirrored strategy",
      { chief: {}, worker: {}, ps: {} },
      "mirrored",
      /^topology\.ps: ps tasks only take part in the parameter-server strategy, not mirrored/,
    ],
    [
      "the parameter-server strategy without ps",
      { chief: {}, worker: {} },
      "parameter-server",
      /^topology\.ps: the parameter-server strategy needs at least one ps task/,
    ],
    [
      "the parameter-server strategy without workers",
      { chief: {}, ps: {} },
      undefined,
      /^topology\.worker: the parameter-server strategy needs at least one worker task/,
    ],
    [
      "an unknown task type",
      { chief: {}, master: {} } as Topology,
      undefined,
      /^topology\.master: unknown task type "master": use chief, worker, ps, evaluator, tensorboard/,
    ],
    [
      "fractional instances",
      { chief: {}, worker: { instances: 1.5 } },
      undefined,
      /^topology\.worker\.instances: /,
    ],
    [
      "bad resources",
      { chief: { resources: { memory: "lots", vcores: 1 } } },
      undefined,
      /^topology\.chief\.resources\.memory: /,
    ],
  ])("refuses %s in one line", (_, topology, strategy, message) => {
    let error: unknown;
    try {
      validateTopology(topology, strategy);
    } catch (caught) {
      error = caught;
    }
    expect((error as Error | undefined)?.message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });
});

describe("topologies as skein services", () => {
  const env = getPyenvUsageFromArchive("s3://team/envs/env.pex");
  const run = { module: "my_project.train" };

  it("runs tf-yarn's ps strategy topology as one service per task type", () => {
    const services = tfServices(env, psStrategyTopology({ workers: 3, ps: 2, resources: small }), { run });
    expect(Object.keys(services)).toEqual(["chief", "worker", "ps", "evaluator", "tensorboard"]);
    expect(
      Object.fromEntries(Object.entries(services).map(([type, service]) => [type, service.instances])),
    ).toEqual({ chief: 1, worker: 3, ps: 2, evaluator: 1, tensorboard: 1 });
    for (const service of Object.values(services)) {
      expect(service.resources).toEqual(small);
      expect(service.files["env.pex"]).toEqual({
        source: "s3a://team/envs/env.pex",
        type: "file",
        visibility: "application",
      });
      expect(service.script).toContain("export PEX_ROOT=./.pex\n");
      expect(service.script).toContain("exec ./env.pex -m my_project.train\n");
    }
  });

  it("gives each task its own resources, node label, restarts and entry point, and leaves out empty tasks", () => {
    const services = tfServices(
      env,
      {
        chief: { resources: { memory: "8 GiB", vcores: 4, gpus: 1 }, nodeLabel: "gpu" },
        worker: { instances: 0 },
        evaluator: { maxRestarts: 2, run: { module: "my_project.evaluate" } },
      },
      { run, env: { MODEL_DIR: "hdfs:///models/a" } },
    );
    expect(Object.keys(services)).toEqual(["chief", "evaluator"]);
    expect(services.chief).toMatchObject({
      resources: { memory: "8 GiB", vcores: 4, gpus: 1 },
      node_label: "gpu",
      max_restarts: 0,
      env: { MODEL_DIR: "hdfs:///models/a" },
    });
    expect(services.evaluator).toMatchObject({ resources: { memory: "1 GiB", vcores: 1 }, max_restarts: 2 });
    expect(services.evaluator?.script).toContain("exec ./env.pex -m my_project.evaluate\n");
  });

  it("runs TensorBoard on the model directory when one is given", () => {
    const services = tfServices(env, singleServerTopology(), { run, tensorboardLogdir: "hdfs:///models/a" });
    expect(services.tensorboard?.script).toContain(
      "exec ./env.pex -m tensorboard.main --logdir hdfs:///models/a --bind_all\n",
    );
    expect(services.chief?.script).toContain("exec ./env.pex -m my_project.train\n");
  });

  it("runs a conda archive's conda-unpack before each task's command", () => {
    const archive = getPyenvUsageFromArchive("hdfs:///envs/tf-conda.tar.gz");
    const services = tfServices(archive, psStrategyTopology({ workers: 1, ps: 1 }), { run });
    for (const service of Object.values(services)) {
      expect(service.files.environment).toMatchObject({ type: "archive" });
      expect(service.script).toMatch(
        /^if \[ -x environment\/bin\/conda-unpack \]; then environment\/bin\/conda-unpack; fi \|\| exit\n/,
      );
    }
  });

  it("refuses an invalid topology before emitting anything", () => {
    expect(() => tfServices(env, { worker: {} }, { run })).toThrow(/^topology\.chief: exactly one chief/);
  });

  it("builds the application around the services", () => {
    const spec = tfApplicationSpec(env, singleServerTopology(), { run }, { queue: "ml", nodeLabel: "cpu" });
    expect(spec).toMatchObject({ name: "tensorflow", queue: "ml", node_label: "cpu", max_attempts: 1 });
    expect(Object.keys(spec.services)).toEqual(["chief", "evaluator", "tensorboard"]);
  });

  it("names the store's file system when it is not Hadoop's default one, after the given ones", () => {
    const elsewhere = getPyenvUsageFromArchive("hdfs://other-nn:8020/envs/env.pex");
    const editable = [{ name: "my_project", uri: "s3://team/code/my_project.zip" }];
    const application = { defaultFileSystem: "hdfs://main-nn:8020", fileSystems: ["hdfs://other-nn"] };
    expect(
      tfApplicationSpec(elsewhere, singleServerTopology(), { run, editable }, application).file_systems,
    ).toEqual(["hdfs://other-nn", "s3a://team"]);
    const onDefault = getPyenvUsageFromArchive("hdfs:///envs/env.pex");
    expect(
      tfApplicationSpec(
        onDefault,
        singleServerTopology(),
        { run },
        { defaultFileSystem: "hdfs://main-nn:8020" },
      ),
    ).not.toHaveProperty("file_systems");
  });
});
