import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { applicationSpec, pythonService, type Service, toJson, toYaml } from "../src/index.js";

const env = getPyenvUsageFromArchive("hdfs://nn1:8020/user/me/envs/env.pex");
const train = pythonService(env, { run: { module: "my_project.train" } });

describe("applicationSpec", () => {
  it("fills skein's top-level fields, leaving out what is not set", () => {
    expect(applicationSpec({ services: { train } })).toEqual({
      name: "cluster-pack",
      queue: "default",
      max_attempts: 1,
      file_systems: ["hdfs://nn1:8020"],
      services: { train },
    });
  });

  it("pins every top-level field", () => {
    const spec = applicationSpec({
      name: "nightly",
      queue: "ml",
      user: "svc-ml",
      nodeLabel: "cpu",
      maxAttempts: 2,
      tags: ["team-a", "nightly"],
      fileSystems: ["hdfs://nn2:8020", "hdfs://nn1:8020"],
      acls: { enable: true, view_users: ["*"] },
      master: { resources: { memory: 512, vcores: 1 }, log_level: "debug" },
      services: { train },
    });
    expect(spec).toEqual({
      name: "nightly",
      queue: "ml",
      user: "svc-ml",
      node_label: "cpu",
      max_attempts: 2,
      tags: ["team-a", "nightly"],
      file_systems: ["hdfs://nn2:8020", "hdfs://nn1:8020"],
      acls: { enable: true, view_users: ["*"] },
      master: { resources: { memory: 512, vcores: 1 }, log_level: "debug" },
      services: { train },
    });
  });

  it("asks for delegation tokens of every named HDFS the files come from, not of s3a or the default FS", () => {
    const other = pythonService(getPyenvUsageFromArchive("s3://b/env.pex"), {
      run: { module: "x" },
      editable: [{ name: "a", uri: "webhdfs://nn3:9870/e/a.zip" }],
      editableIndex: "hdfs:///e/editable_packages_index",
    });
    expect(applicationSpec({ services: { train, other } }).file_systems).toEqual([
      "hdfs://nn1:8020",
      "webhdfs://nn3:9870",
    ]);
  });

  const withService = (patch: Partial<Service>) => ({ services: { train: { ...train, ...patch } } });
  it.each<[string, Parameters<typeof applicationSpec>[0], RegExp]>([
    ["no service", { services: {} }, /^services: an application needs at least one service/],
    ["an empty queue", { queue: " ", services: { train } }, /^queue: the queue is empty/],
    [
      "max_attempts 0",
      { maxAttempts: 0, services: { train } },
      /^max_attempts: must be an integer ≥ 1, got 0/,
    ],
    [
      "0 vcores",
      withService({ resources: { memory: 1024, vcores: 0 } }),
      /^services\.train\.resources\.vcores: /,
    ],
    [
      "memory in an unknown unit",
      withService({ resources: { memory: "2 gallons", vcores: 1 } }),
      /^services\.train\.resources\.memory: memory must be MiB or a size with a unit such as "2 GiB"/,
    ],
    ["zero memory", withService({ resources: { memory: 0, vcores: 1 } }), /resources\.memory/],
    [
      "negative instances",
      withService({ instances: -1 }),
      /^services\.train\.instances: must be an integer ≥ 0/,
    ],
    ["max_restarts below -1", withService({ max_restarts: -2 }), /^services\.train\.max_restarts: .* ≥ -1/],
    ["an empty script", withService({ script: " \n" }), /^services\.train\.script: a service needs a script/],
    [
      "a file name with a directory",
      withService({ files: { "lib/a.zip": { source: "/a.zip", type: "file", visibility: "application" } } }),
      /^services\.train\.files\.lib\/a\.zip: .* plain file name/,
    ],
    [
      "a dependency on a missing service",
      withService({ depends: ["scheduler"] }),
      /^services\.train\.depends: depends on "scheduler", which is not a service of this application \(train\)/,
    ],
    [
      "a dependency cycle",
      { services: { a: { ...train, depends: ["b"] }, b: { ...train, depends: ["a"] } } },
      /^services: services depend on each other in a cycle: a → b → a/,
    ],
  ])("refuses %s in one line naming the field", (_, options, message) => {
    let error: unknown;
    try {
      applicationSpec(options);
    } catch (caught) {
      error = caught;
    }
    expect((error as Error | undefined)?.message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });

  it.each([1024, "2 GiB", "512 MiB", "4GB", "1.5 g", "3000m"])(
    "accepts memory %s as skein reads it",
    (memory) => {
      expect(() => applicationSpec(withService({ resources: { memory, vcores: 1 } }))).not.toThrow();
    },
  );
});

describe("rendering", () => {
  const spec = applicationSpec({
    name: "train",
    services: {
      train: pythonService(getPyenvUsageFromArchive("s3://team/envs/env.pex.zip"), {
        run: { module: "my_project.train", args: ["--note", "it's: #1"] },
        editable: [{ name: "my_project", uri: "s3://team/envs/env_editable/my_project.zip" }],
      }),
    },
  });

  it("writes YAML that reads back as the same spec, with the script as a literal block", () => {
    const yaml = toYaml(spec);
    expect(parse(yaml)).toEqual(spec);
    expect(yaml).toContain("    script: |\n      export PEX_ROOT=./.pex\n");
    expect(yaml).toContain("type: archive");
  });

  it("writes JSON skein can read", () => {
    expect(JSON.parse(toJson(spec))).toEqual(spec);
  });
});
