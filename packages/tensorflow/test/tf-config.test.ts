import { describe, expect, it } from "vitest";
import {
  psStrategyTopology,
  singleServerTopology,
  type TaskAddresses,
  tfConfig,
  tfConfigs,
} from "../src/index.js";

const psCluster: TaskAddresses = {
  chief: ["chief.example:2222"],
  worker: ["w0.example:2222", "w1.example:2222"],
  ps: ["ps0.example:2222"],
  evaluator: ["eval.example:2222"],
  tensorboard: ["tb.example:6006"],
};

describe("tfConfig for each topology", () => {
  it("gives every task of a ps strategy the cluster without evaluator and TensorBoard", () => {
    const cluster = {
      chief: ["chief.example:2222"],
      worker: ["w0.example:2222", "w1.example:2222"],
      ps: ["ps0.example:2222"],
    };
    expect(tfConfigs(psCluster, { topology: psStrategyTopology() })).toEqual({
      "chief:0": { cluster, task: { type: "chief", index: 0 }, environment: "cloud" },
      "worker:0": { cluster, task: { type: "worker", index: 0 }, environment: "cloud" },
      "worker:1": { cluster, task: { type: "worker", index: 1 }, environment: "cloud" },
      "ps:0": { cluster, task: { type: "ps", index: 0 }, environment: "cloud" },
      "evaluator:0": { cluster, task: { type: "evaluator", index: 0 }, environment: "cloud" },
    });
  });

  it("gives a single server topology a cluster of the chief alone", () => {
    const addresses = {
      chief: ["10.0.0.1:2222"],
      evaluator: ["10.0.0.2:2222"],
      tensorboard: ["10.0.0.3:6006"],
    };
    expect(tfConfigs(addresses, { topology: singleServerTopology() })).toEqual({
      "chief:0": {
        cluster: { chief: ["10.0.0.1:2222"] },
        task: { type: "chief", index: 0 },
        environment: "cloud",
      },
      "evaluator:0": {
        cluster: { chief: ["10.0.0.1:2222"] },
        task: { type: "evaluator", index: 0 },
        environment: "cloud",
      },
    });
  });

  it("gives MultiWorkerMirroredStrategy chief and workers, with the rpc layer and environment asked for", () => {
    const addresses = { chief: ["[::1]:2222"], worker: ["[::1]:2223"] };
    expect(
      tfConfig(addresses, { type: "worker", index: 0 }, { environment: "google", rpcLayer: "grpc" }),
    ).toEqual({
      cluster: { chief: ["[::1]:2222"], worker: ["[::1]:2223"] },
      task: { type: "worker", index: 0 },
      environment: "google",
      rpc_layer: "grpc",
    });
  });

  it("serializes with the keys TensorFlow reads, in its documented order", () => {
    expect(JSON.stringify(tfConfig({ chief: ["h:1"] }, { type: "chief", index: 0 }))).toBe(
      '{"cluster":{"chief":["h:1"]},"task":{"type":"chief","index":0},"environment":"cloud"}',
    );
  });
});

describe("tfConfig refuses", () => {
  it.each<
    [string, TaskAddresses, { type: "chief" | "worker" | "tensorboard"; index: number }, object, RegExp]
  >([
    [
      "TensorBoard",
      psCluster,
      { type: "tensorboard", index: 0 },
      {},
      /^tensorboard:0: TensorBoard .* has no TF_CONFIG/,
    ],
    [
      "a task index out of range",
      psCluster,
      { type: "worker", index: 2 },
      {},
      /^worker:2: no such task: 2 worker/,
    ],
    ["no chief", { worker: ["w:1"] }, { type: "worker", index: 0 }, {}, /^chief: exactly one chief address/],
    [
      "two chiefs",
      { chief: ["a:1", "b:1"] },
      { type: "chief", index: 0 },
      {},
      /^chief: exactly one chief address/,
    ],
    [
      "two evaluators",
      { chief: ["a:1"], evaluator: ["b:1", "c:1"] },
      { type: "chief", index: 0 },
      {},
      /^evaluator: at most one evaluator/,
    ],
    [
      "an address without a port",
      { chief: ["chief.example"] },
      { type: "chief", index: 0 },
      {},
      /^chief:0: "chief\.example" is not host:port/,
    ],
    ["port 0", { chief: ["h:0"] }, { type: "chief", index: 0 }, {}, /is not host:port/],
    ["a URL", { chief: ["grpc://h:2222"] }, { type: "chief", index: 0 }, {}, /is not host:port/],
    [
      "one address for two tasks",
      { chief: ["h:1"], worker: ["h:1"] },
      { type: "chief", index: 0 },
      {},
      /^worker:0: h:1 is also the address of chief:0/,
    ],
    [
      "addresses that do not match the topology",
      { chief: ["a:1"], worker: ["b:1"], ps: ["c:1"] },
      { type: "chief", index: 0 },
      { topology: psStrategyTopology({ workers: 2 }) },
      /^worker: the topology has 2 worker task\(s\) but 1 address\(es\) were given/,
    ],
    [
      "addresses of a task the topology lacks",
      { chief: ["a:1"], worker: ["b:1"] },
      { type: "chief", index: 0 },
      { topology: { chief: {} } },
      /^worker: the topology has 0 worker task\(s\) but 1/,
    ],
  ])("%s", (_, addresses, task, options, message) => {
    expect(() => tfConfig(addresses, task, options)).toThrow(message);
  });
});
