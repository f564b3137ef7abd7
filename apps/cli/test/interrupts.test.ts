// Ctrl-C (SIGINT) and SIGTERM during an upload, at random moments, on each kind of store: the command exits with the
// shell's code for the signal after one line, and leaves nothing behind: no temporary file in TMPDIR, no hidden
// temporary name or lease in the store, no unfinished multipart upload, and never an archive beside metadata that
// describes other bytes.

import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import {
  buildWheel,
  pipInstall,
  s3ClientConfig,
  s3Environment,
  startS3rver,
  startWebHdfsServer,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, cliPath } from "./cli-process.js";
import { createFixtureVenv } from "./fixture-env.js";

const TRIES = 10;
/** Longer than the CLI's own cleanup bound (10 s): past this, the run counts as hung. */
const HUNG_AFTER_MS = 20_000;

let root: string;
let venv: Venv;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-interrupts-"));
  venv = await createFixtureVenv(root);
  // An incompressible package: packing and sending take long enough to be interrupted midway, and the archive
  // (≈ 10 MiB) is sent to S3 in more than one part (8 MiB each).
  const wheels = join(root, "wheels");
  await buildWheel(
    {
      name: "bulkpkg",
      version: "1.0",
      files: {
        "bulkpkg/__init__.py": "",
        "bulkpkg/blob.py": `DATA = "${randomBytes(10 * 1024 * 1024).toString("base64")}"\n`,
      },
    },
    wheels,
  );
  await pipInstall(venv, ["bulkpkg"], [wheels]);
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stderr: string;
  ms: number;
  /** When stderr first matched `startSignalsOn`, in ms from the start. */
  matchedAtMs?: number;
}

/** `--verbose` says when each phase starts: the signals can be aimed at the packing and sending. */
const PACKING = /^packing /m;

/** stderr without what `--verbose` adds (phases, retries): what the command said about the signal. */
const withoutPhases = (stderr: string) =>
  stderr
    .split("\n")
    .filter((line) => line !== "" && !/^(inspecting|packing|uploading|retrying)\b/.test(line))
    .join("\n");

/**
 * Runs `upload --force` and sends `signals` (one per delay, in ms from the start, or from when stderr first matches
 * `startSignalsOn`); a run past HUNG_AFTER_MS is killed.
 */
function uploadAndSignal(
  packagePath: string,
  env: NodeJS.ProcessEnv,
  signals: { signal: NodeJS.Signals; afterMs: number }[],
  options: { verbose?: boolean; startSignalsOn?: RegExp } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        cliPath,
        ...(options.verbose ? ["--verbose"] : []),
        "upload",
        "--force",
        "--python",
        venv.python,
        "--package-path",
        packagePath,
      ],
      { env, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    const timers: NodeJS.Timeout[] = [];
    const startSignals = () =>
      timers.push(...signals.map(({ signal, afterMs }) => setTimeout(() => child.kill(signal), afterMs)));
    let matchedAtMs: number | undefined;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
      if (matchedAtMs === undefined && options.startSignalsOn?.test(stderr)) {
        matchedAtMs = Date.now() - started;
        startSignals();
      }
    });
    if (!options.startSignalsOn) startSignals();
    const hung = setTimeout(() => child.kill("SIGKILL"), HUNG_AFTER_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      for (const timer of [...timers, hung]) clearTimeout(timer);
      // A signal before the command set up its handlers ends node itself: the shell reports that as 128 + n too.
      resolve({
        code: code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null),
        stderr,
        ms: Date.now() - started,
        ...(matchedAtMs !== undefined && { matchedAtMs }),
      });
    });
  });
}

/** A store to upload to, and how to read its directory back: every name under it (relative, recursive), a file. */
interface Store {
  directory: string;
  env: Record<string, string>;
  names(): Promise<string[]>;
  read(name: string): Promise<Buffer>;
  /** Ids of multipart uploads started and neither completed nor aborted (S3 only). */
  unfinishedUploads(): Promise<string[]>;
  /** S3: how many multipart uploads were started so far. */
  multipartUploadsStarted?(): Promise<number>;
  stop(): Promise<void>;
}

const stores: { name: string; start(): Promise<Store> }[] = [
  {
    name: "a local directory",
    async start() {
      const directory = join(await mkdtemp(join(root, "store-")), "envs");
      return {
        directory,
        env: {},
        names: () => readdir(directory, { recursive: true }).catch(() => []),
        read: (name) => readFile(join(directory, name)),
        unfinishedUploads: async () => [],
        stop: async () => undefined,
      };
    },
  },
  {
    name: "S3 (s3rver)",
    async start() {
      const s3 = await startS3rver({ buckets: ["team"] });
      const client = new S3Client(s3ClientConfig(s3));
      return {
        directory: "s3://team/envs",
        env: s3Environment(s3),
        async names() {
          const listing = await client.send(new ListObjectsV2Command({ Bucket: "team", Prefix: "envs/" }));
          return (listing.Contents ?? []).map((object) => (object.Key ?? "").slice("envs/".length));
        },
        async read(name) {
          const object = await client.send(new GetObjectCommand({ Bucket: "team", Key: `envs/${name}` }));
          const body = object.Body as { transformToByteArray(): Promise<Uint8Array> };
          return Buffer.from(await body.transformToByteArray());
        },
        unfinishedUploads: () => s3.unfinishedUploads("team"),
        multipartUploadsStarted: async () =>
          (await s3.requests()).filter(
            (request) => request.method === "POST" && request.url.searchParams.has("uploads"),
          ).length,
        async stop() {
          client.destroy();
          await s3.stop();
        },
      };
    },
  },
  {
    name: "HDFS (WebHDFS server)",
    async start() {
      const hdfs = await startWebHdfsServer({
        directories: [{ path: "/user/bob", owner: "bob", permission: 0o755 }],
      });
      const base = `${hdfs.namenodeUrl}/webhdfs/v1/user/bob/envs`;
      const list = async (relative: string): Promise<string[]> => {
        const answer = await fetch(`${base}${relative}?op=LISTSTATUS&user.name=bob`);
        if (answer.status === 404) return [];
        const { FileStatuses } = (await answer.json()) as {
          FileStatuses: { FileStatus: { pathSuffix: string; type: string }[] };
        };
        const names: string[] = [];
        for (const status of FileStatuses.FileStatus) {
          const name = `${relative}/${status.pathSuffix}`;
          names.push(name.slice(1));
          if (status.type === "DIRECTORY") names.push(...(await list(name)));
        }
        return names;
      };
      return {
        directory: `webhdfs://${hdfs.namenodeAddress}/user/bob/envs`,
        env: { HADOOP_USER_NAME: "bob" },
        names: () => list(""),
        read: async (name) =>
          Buffer.from(await (await fetch(`${base}/${name}?op=OPEN&user.name=bob`)).arrayBuffer()),
        unfinishedUploads: async () => [],
        stop: () => hdfs.stop(),
      };
    },
  },
];

/** Nothing left behind, and the archive (if any) is the one its metadata describes. */
async function expectCleanStore(reader: Store, tmp: string) {
  const names = await reader.names();
  // Temporary names (`.env.pex.<id>.partial`, `._COPYING_`, `.uploading`) and leases are hidden; final ones are not.
  expect(names.filter((name) => name.split("/").some((part) => part.startsWith(".")))).toEqual([]);
  expect(await reader.unfinishedUploads()).toEqual([]);
  expect(await readdir(tmp)).toEqual([]);
  if (names.includes("env.json")) {
    const metadata = JSON.parse((await reader.read("env.json")).toString()) as {
      sha256: string;
      size: number;
    };
    const archive = await reader.read("env.pex");
    expect(createHash("sha256").update(archive).digest("hex")).toBe(metadata.sha256);
    expect(archive.length).toBe(metadata.size);
  }
}

describe.each(stores)("Ctrl-C during an upload to $name", ({ start }) => {
  let store: Store;
  let packagePath: string;

  beforeAll(async () => {
    store = await start();
    packagePath = `${store.directory}/env.pex`;
  }, 60_000);
  afterAll(async () => {
    await store?.stop();
  });

  const envFor = async () => {
    const tmp = await mkdtemp(join(root, "tmp-"));
    return { tmp, env: baseEnv({ ...store.env, TMPDIR: tmp }) };
  };

  // Uploads of a few MB each: on a loaded machine, still well under the time allowed.
  it(`exits 130 with one line and leaves nothing behind, at ${TRIES} random moments`, async () => {
    const { tmp, env } = await envFor();
    // How long an uninterrupted upload takes here, and when it starts packing (and sending: they overlap).
    const whole = await uploadAndSignal(packagePath, env, [], { verbose: true, startSignalsOn: PACKING });
    expect(withoutPhases(whole.stderr)).toBe("");
    expect(whole.code).toBe(0);
    if (store.multipartUploadsStarted) expect(await store.multipartUploadsStarted()).toBeGreaterThan(0);
    const packingMs = whole.matchedAtMs ?? 0;
    let interruptedMidway = 0;
    for (let attempt = 0; attempt < TRIES; attempt++) {
      // Every other try aims at the transfer; the rest at any moment, start-up and inspection included.
      const aimed = attempt % 2 === 1;
      const run = await uploadAndSignal(
        packagePath,
        env,
        [{ signal: "SIGINT", afterMs: Math.random() * (aimed ? whole.ms - packingMs : whole.ms) }],
        { verbose: true, ...(aimed && { startSignalsOn: PACKING }) },
      );
      const said = withoutPhases(run.stderr);
      if (said === "") {
        // The signal landed once the work was done: the upload stands, and the exit code says so unless it
        // exited before the signal came.
        expect([0, 130]).toContain(run.code);
      } else {
        expect(said).toBe(`interrupted (SIGINT): nothing was published at ${packagePath}`);
        expect(run.code).toBe(130);
        interruptedMidway += 1;
      }
      await expectCleanStore(store, tmp);
    }
    expect(interruptedMidway).toBeGreaterThan(0);
  }, 240_000);

  it("exits 143 on SIGTERM with one line", async () => {
    const { tmp, env } = await envFor();
    const run = await uploadAndSignal(packagePath, env, [{ signal: "SIGTERM", afterMs: 0 }], {
      verbose: true,
      startSignalsOn: PACKING,
    });
    expect(withoutPhases(run.stderr)).toBe(`interrupted (SIGTERM): nothing was published at ${packagePath}`);
    expect(run.code).toBe(143);
    await expectCleanStore(store, tmp);
  }, 60_000);
});

describe("a second Ctrl-C", () => {
  it("exits at once, without waiting for the cleanup", async () => {
    const tmp = await mkdtemp(join(root, "tmp-"));
    const store = join(root, "second-signal");
    await mkdir(store);
    const run = await uploadAndSignal(
      `${store}/env.pex`,
      baseEnv({ TMPDIR: tmp }),
      [
        { signal: "SIGINT", afterMs: 0 },
        { signal: "SIGINT", afterMs: 10 },
      ],
      { verbose: true, startSignalsOn: PACKING },
    );
    expect(run.code).toBe(130);
    // Two signals this close may reach the process as one, or after a quick cleanup: one line either way.
    expect([
      "interrupted (SIGINT) again: exiting without cleaning up",
      `interrupted (SIGINT): nothing was published at ${store}/env.pex`,
    ]).toContain(withoutPhases(run.stderr));
    expect(run.ms).toBeLessThan(HUNG_AFTER_MS / 2);
  }, 60_000);
});

describe("Ctrl-C during pack", () => {
  it("exits 130 with one line and writes nothing at the output or beside it", async () => {
    const directory = await mkdtemp(join(root, "pack-"));
    const output = join(directory, "env.pex");
    const child = spawn(
      process.execPath,
      [cliPath, "--verbose", "pack", "--python", venv.python, "--output", output],
      { env: baseEnv({ TMPDIR: directory }), stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    let signalled = false;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
      // Once, when packing has started: the archive is being written.
      if (!signalled && PACKING.test(stderr)) signalled = child.kill("SIGINT");
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (code === 0) {
      // Packing this small environment beat the signal: the archive stands whole.
      expect(await readdir(directory)).toEqual(["env.pex"]);
      return;
    }
    expect(withoutPhases(stderr)).toBe(`interrupted (SIGINT): no archive was written at ${output}`);
    expect(code).toBe(130);
    expect(await readdir(directory)).toEqual([]);
  }, 60_000);
});
