// Bad input from the user, from files in a store and from servers: each gets one clear line and its exit code, and
// nothing a file or a server says reaches the terminal raw (escape sequences) or with a password in it.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  type FaultProxy,
  type RunningS3rver,
  s3ClientConfig,
  s3Environment,
  startFaultProxy,
  startS3rver,
  startWebHdfsServer,
  type WebHdfsServer,
} from "@cluster-pack/testkit";
import type { EnvListing } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, expectOneError, runCli } from "./cli-process.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-bad-input-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const ESC = "\u001b";

/** A local store holding archives beside the given metadata files (text as stored). */
async function storeWith(metadataByStem: Record<string, string>): Promise<string> {
  const store = await mkdtemp(join(root, "store-"));
  for (const [stem, metadata] of Object.entries(metadataByStem)) {
    await writeFile(join(store, `${stem}.pex`), "not really a pex");
    await writeFile(join(store, `${stem}.json`), metadata);
  }
  return store;
}

describe("ls with metadata it cannot trust", () => {
  it("lists what is valid, shows the rest as unknown, warns once per malformed file and exits 0", async () => {
    const store = await storeWith({
      "wrong-types": JSON.stringify({
        created: 5,
        python_version: ["3.11"],
        package_installed: "numpy",
        size: "1",
      }),
      "an-array": "[1, 2, 3]",
      "not-json": "{ nope",
      huge: JSON.stringify({ created: "x".repeat(1_000_000), python_version: "3.11", package_installed: [] }),
      good: JSON.stringify({
        created: "2026-01-02T03:04:05Z",
        python_version: "3.12",
        package_installed: ["a==1"],
      }),
    });
    const outcome = await runCli(["ls", store]);
    expect(outcome.code).toBe(0);
    const warnings = outcome.stderr.trimEnd().split("\n");
    expect(warnings.sort()).toEqual([
      `warning: the metadata at ${store}/an-array.json is malformed: not a JSON object`,
      `warning: the metadata at ${store}/not-json.json is malformed: not JSON`,
      `warning: the metadata at ${store}/wrong-types.json is malformed: "created" is not a string, "python_version" is not a string, "package_installed" is not a list of strings, "size" is not a number`,
    ]);
    const rows = outcome.stdout.split("\n");
    expect(rows.find((row) => row.startsWith("wrong-types.pex"))).toMatch(/python \?\s+\? packages/);
    expect(rows.find((row) => row.startsWith("good.pex"))).toMatch(
      /2026-01-02T03:04:05Z\s+python 3\.12\s+1 package\b/,
    );
    // A megabyte of metadata is cut to a cell.
    expect(Math.max(...rows.map((row) => row.length))).toBeLessThan(300);
  });

  it("shows an escape sequence from metadata as \\x1b, never raw, and keeps --json valid", async () => {
    const store = await storeWith({
      env: JSON.stringify({
        created: `${ESC}[2J`,
        python_version: `3.11${ESC}]0;pwned\u0007`,
        package_installed: [],
      }),
    });
    const human = await runCli(["ls", store]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("\\x1b[2J");
    expect(human.stdout).toContain("python 3.11\\x1b]0;pwned\\x07");
    expect(human.stdout + human.stderr).not.toContain(ESC);

    const json = await runCli(["ls", store, "--json"]);
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain(ESC);
    const listing = JSON.parse(json.stdout) as EnvListing;
    expect(listing.envs[0]?.metadata?.created).toBe(`${ESC}[2J`);
  });

  it("removes malformed metadata together with its archive (rm)", async () => {
    const store = await storeWith({ env: "{ nope" });
    const outcome = await runCli(["rm", join(store, "env.pex"), "--quiet"]);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout.trim().split("\n")).toEqual([join(store, "env.json"), join(store, "env.pex")]);
  });

  it("escapes the C1 control characters JSON.stringify leaves raw", async () => {
    const store = await storeWith({ env: JSON.stringify({ created: "\u009b2J", python_version: "3.11" }) });
    const json = await runCli(["ls", store, "--json"]);
    expect(json.stdout).not.toContain("\u009b");
    expect((JSON.parse(json.stdout) as EnvListing).envs[0]?.metadata?.created).toBe("\u009b2J");
  });
});

describe("credentials in URLs are never printed", () => {
  it.each([
    ["a malformed endpoint URL", "http//admin:pw@host"],
    ["an endpoint that refuses connections", "http://admin:pw@127.0.0.1:1"],
  ])("%s", async (_, endpoint) => {
    const outcome = await runCli(["--verbose", "--retries", "1", "ls", "s3://team/envs"], {
      env: baseEnv({
        AWS_ENDPOINT_URL_S3: endpoint,
        AWS_ACCESS_KEY_ID: "key",
        AWS_SECRET_ACCESS_KEY: "secret",
      }),
    });
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr).toMatch(/^error: /m);
    expect(outcome.stdout + outcome.stderr).not.toContain("pw");
  });
});

describe("network flags", () => {
  it.each([
    [["--stall-timeout", "soon"], /--stall-timeout "soon" is not a positive number of seconds/],
    [["--stall-timeout", "0"], /--stall-timeout "0" is not a positive number of seconds/],
    [["--stall-timeout", "-5"], /--stall-timeout "-5" is not a positive number of seconds/],
    [["--retries", "1.5"], /--retries "1.5" is not a whole number from 0 to 100/],
    [["--retries", "-1"], /--retries "-1" is not a whole number from 0 to 100/],
    [["--retries", "many"], /--retries "many" is not a whole number from 0 to 100/],
  ])("refuses %j with one line and exit code 2", async (flags, pattern) => {
    const outcome = await runCli([...flags, "ls", join(root, "nowhere")], { cwd: root });
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe("");
    expectOneError(outcome.stderr, pattern);
  });

  it("refuses a bad value in [tool.cluster-pack], naming the file and the key", async () => {
    const project = await mkdtemp(join(root, "project-"));
    await writeFile(join(project, "pyproject.toml"), "[tool.cluster-pack]\nretries = -2\n");
    const outcome = await runCli(["ls", join(root, "nowhere")], { cwd: project });
    expect(outcome.code).toBe(2);
    expectOneError(
      outcome.stderr,
      /pyproject\.toml: \[tool\.cluster-pack\] retries "-2" is not a whole number/,
    );

    await writeFile(join(project, "pyproject.toml"), '[tool.cluster-pack]\nstall-timeout = "soon"\n');
    const wrongType = await runCli(["ls", join(root, "nowhere")], { cwd: project });
    expect(wrongType.code).toBe(2);
    expectOneError(
      wrongType.stderr,
      /pyproject\.toml: \[tool\.cluster-pack\] stall-timeout must be a number/,
    );
  });

  it("shows each retry with --verbose, as many as --retries allows", async () => {
    const outcome = await runCli(
      ["--verbose", "--retries", "2", "ls", "webhdfs://127.0.0.1:1/user/bob/envs"],
      {
        env: baseEnv({ HADOOP_USER_NAME: "bob" }),
      },
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.match(/^retrying .*\(attempt \d of 3\)/gm)).toHaveLength(2);
  });
});

describe("hints name the store the error is about", () => {
  it("points a WebHDFS failure at the Hadoop configuration, never at AWS variables", async () => {
    const outcome = await runCli(["--retries", "0", "ls", "webhdfs://127.0.0.1:1/user/bob/envs"], {
      env: baseEnv({ HADOOP_USER_NAME: "bob" }),
    });
    expect(outcome.code).toBe(1);
    expectOneError(outcome.stderr, /webhdfs:\/\/127\.0\.0\.1:1/);
    expect(outcome.stderr).toContain("HADOOP_CONF_DIR");
    expect(outcome.stderr).not.toMatch(/AWS/);
  });

  it("points an S3 failure at the S3 endpoint, never at the Hadoop configuration", async () => {
    const outcome = await runCli(["--retries", "0", "ls", "s3://team/envs"], {
      env: baseEnv({
        AWS_ENDPOINT_URL_S3: "http://127.0.0.1:1",
        AWS_ACCESS_KEY_ID: "k",
        AWS_SECRET_ACCESS_KEY: "s",
      }),
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain("AWS_ENDPOINT_URL_S3");
    expect(outcome.stderr).not.toMatch(/HADOOP/);
  });
});

/** Puts a file into the WebHDFS server as a client does: CREATE at the namenode, the bytes to the datanode. */
async function webHdfsPut(hdfs: WebHdfsServer, path: string, body: string) {
  const create = await fetch(
    `${hdfs.namenodeUrl}/webhdfs/v1${path}?op=CREATE&user.name=bob&overwrite=true&noredirect=true`,
    { method: "PUT" },
  );
  const { Location } = (await create.json()) as { Location: string };
  const written = await fetch(Location, { method: "PUT", body });
  expect(written.status).toBe(201);
}

describe("a metadata file cut short by the connection", () => {
  const metadata = JSON.stringify({
    created: "2026-01-02T03:04:05Z",
    python_version: "3.11",
    package_installed: Array.from({ length: 200 }, (_, i) => `package${i}==1.0`),
  });
  let s3: RunningS3rver;
  let hdfs: WebHdfsServer;
  const proxies: FaultProxy[] = [];

  beforeAll(async () => {
    [s3, hdfs] = await Promise.all([
      startS3rver({ buckets: ["team"] }),
      startWebHdfsServer({ directories: [{ path: "/user/bob", owner: "bob", permission: 0o755 }] }),
    ]);
    const client = new S3Client(s3ClientConfig(s3));
    for (const [key, body] of [
      ["envs/env.pex", "not really a pex"],
      ["envs/env.json", metadata],
    ] as const)
      await client.send(new PutObjectCommand({ Bucket: "team", Key: key, Body: body }));
    client.destroy();
    await webHdfsPut(hdfs, "/user/bob/envs/env.pex", "not really a pex");
    await webHdfsPut(hdfs, "/user/bob/envs/env.json", metadata);
  });
  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all([s3?.stop(), hdfs?.stop()]);
  });

  /** Every read of the metadata's bytes (from S3, from the datanode), retries included, ends after 100 bytes. */
  const truncatingMetadataReads = () =>
    ({
      method: "GET",
      url: (url: URL) => url.pathname.endsWith("env.json") && url.origin !== hdfs.namenodeUrl,
      times: 100,
      action: { kind: "truncate", afterBytes: 100 },
    }) as const;

  it.each(["S3", "WebHDFS"])(
    "%s: ls names the metadata file and says the connection closed",
    async (store) => {
      const proxy = await startFaultProxy({
        target: store === "S3" ? s3.endpoint : hdfs.namenodeUrl,
        faults: [truncatingMetadataReads()],
      });
      proxies.push(proxy);
      const [uri, env] =
        store === "S3"
          ? ["s3://team/envs", baseEnv({ ...s3Environment(s3), AWS_ENDPOINT_URL_S3: proxy.url })]
          : [`webhdfs://${proxy.address}/user/bob/envs`, baseEnv({ HADOOP_USER_NAME: "bob" })];
      const outcome = await runCli(["--retries", "1", "ls", uri], { env });
      expect(outcome.code).toBe(0);
      expect(outcome.stderr.trimEnd()).toMatch(
        /^warning: the metadata at \S+\/envs\/env\.json could not be read: (the connection closed before the whole file arrived|lost the connection to .+)$/,
      );
      expect(outcome.stderr).not.toMatch(/aborted/);

      // prune must not take an archive whose metadata did not arrive for one without metadata (the first to go).
      const prune = await runCli(["--retries", "1", "prune", uri, "--keep", "0", "--yes"], { env });
      expect(prune.code).toBe(1);
      expectOneError(
        prune.stderr,
        /env\.json: (the connection closed before the whole file arrived|lost the connection to .+)$/,
      );

      // rm must not remove the archive and leave metadata it could not read: it stops, naming the file.
      const removal = await runCli(["--retries", "1", "rm", `${uri}/env.pex`], { env });
      expect(removal.code).toBe(1);
      expectOneError(
        removal.stderr,
        /env\.json: reading the metadata failed: (the connection closed before the whole file arrived|lost the connection to .+)$/,
      );
      // Neither removed anything.
      proxy.clearFaults();
      const after = await runCli(["ls", uri, "--quiet"], { env });
      expect(after.stdout.trim()).toBe(`${uri}/env.pex`);
    },
  );
});

describe("bad input around a store directory", () => {
  it("says which directory does not exist", async () => {
    const missing = join(root, "missing", "envs");
    await mkdir(join(root, "missing"), { recursive: true });
    const outcome = await runCli(["ls", missing]);
    expect(outcome.code).toBe(1);
    expectOneError(outcome.stderr, new RegExp(missing.replaceAll("/", "\\/")));
    expect(outcome.stderr).not.toMatch(/AWS|HADOOP/);
  });
});
