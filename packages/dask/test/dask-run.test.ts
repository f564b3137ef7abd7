// A real Dask run on loopback with Debian's python3-distributed. A venv (a wheel package and an editable project)
// is packed and uploaded to s3rver with the façade; the test then plays each node: it localizes the files the
// emitted configuration lists into a fresh container directory, sets the listed environment and starts the
// emitted command. A client submits a function that reports where its interpreter and packages came from.
//
// The zipapp carries no interpreter and the venv's packages are the ones shipped; the node's own Python (Debian's,
// found first on PATH by the `#!/usr/bin/env python3.X` shebang) provides distributed itself, after the archive's
// packages on sys.path (the zipapp's inherit_path=fallback): the set-up of a cluster whose nodes have Dask
// installed. The venv is built from that same Debian Python, so the packed packages match the nodes' interpreter.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import {
  createShippableVenv,
  debianPython,
  execute,
  type LocalizedContainer,
  localizeContainer,
  pythonFacts,
  type RunningS3rver,
  s3StorageOptions,
  startS3rver,
  type Venv,
} from "@cluster-pack/testkit";
import type { SkeinFile } from "@cluster-pack/yarn";
import { type UploadedEnv, uploadEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DaskConfig, daskConfig, daskYarnSpec } from "../src/index.js";

// The node's PATH: Debian's interpreter first, the one python3-distributed is installed for.
const NODE_PATH = "/usr/bin:/bin";
const STARTUP_TIMEOUT_MS = 60_000;

let root: string;
let s3: RunningS3rver;
let venv: Venv;
let schedulerAddress: string;
/** The scheduler's container directory and process. */
let schedulerDirectory: string;
let schedulerProcess: Started;
const uploads: Partial<Record<"pex" | "pex.zip", UploadedEnv>> = {};
const running: ChildProcess[] = [];
const containers: LocalizedContainer[] = [];

interface Started {
  child: ChildProcess;
  output: () => string;
}

/** Starts a process in a process group of its own, so that stopping it also stops what it started (the nanny's worker). */
function startGroup(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Started {
  const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  running.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { child, output: () => output };
}

async function stopGroup(child: ChildProcess) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), name);
    } catch {
      // The group is already gone.
    }
  };
  signal("SIGTERM");
  if ((await Promise.race([exited.then(() => "exited"), sleep(10_000, "timeout")])) === "timeout") {
    signal("SIGKILL");
    await exited;
  }
}

/** The node's download: the files of a process, by the names the configuration gives them, from s3rver. */
async function localize(files: Record<string, SkeinFile>) {
  const container = await localizeContainer(files, { storage: s3StorageOptions(s3) });
  containers.push(container);
  return container.directory;
}

const nodeEnv = (variables: Record<string, string>): NodeJS.ProcessEnv => ({
  PATH: NODE_PATH,
  HOME: join(root, "no-home"),
  ...variables,
});

// Sent to a worker as a task, or to the scheduler with run_on_scheduler: where the process's interpreter and
// packages came from, as it imports them.
const whereSource = `def where():
    import os, sys
    import devpkg, purepkg
    return {"executable": sys.executable, "purepkg": purepkg.__file__, "devpkg": devpkg.__file__,
            "values": [purepkg.VALUE, devpkg.STATE], "pex": os.environ.get("PEX"), "pid": os.getpid()}
`;

const clientScript = `import json, sys, time
from distributed import Client

${whereSource}
address, name = sys.argv[1:3]
with Client(address, timeout="30s") as client:
    if name == "--scheduler":
        print(json.dumps(client.run_on_scheduler(where)))
        sys.exit(0)
    deadline = time.monotonic() + 60
    while True:
        workers = {info["name"]: (worker, info) for worker, info in client.scheduler_info()["workers"].items()}
        if name in workers:
            break
        if time.monotonic() > deadline:
            sys.exit("worker %s did not join; the scheduler has %s" % (name, sorted(map(str, workers))))
        time.sleep(0.2)
    worker, info = workers[name]
    future = client.submit(where, pure=False, workers=[worker], allow_other_workers=False)
    found = future.result(timeout=60)
    found.update(nthreads=info["nthreads"], memory_limit=info["memory_limit"])
    print(json.dumps(found))
`;

interface Found {
  executable: string;
  purepkg: string;
  devpkg: string;
  values: string[];
  pex: string | null;
  /** The process that ran `where`. */
  pid: number;
  /** A worker's: what the scheduler knows of it. */
  nthreads: number;
  memory_limit: number;
}

/** Runs the client with Debian's Python from a directory of its own: it has distributed, not our packages. */
async function askWorker(name: string, worker: Started): Promise<Found> {
  const directory = await mkdtemp(join(root, "client-"));
  const outcome = await execute(debianPython, ["-c", clientScript, schedulerAddress, name], {
    cwd: directory,
    env: { PATH: NODE_PATH, HOME: directory },
  });
  if (outcome.code !== 0)
    throw new Error(`client failed: ${outcome.stderr}\n--- worker output ---\n${worker.output()}`);
  return JSON.parse(outcome.stdout) as Found;
}

/** Whether `pid` is `ancestor` or one of its descendants (the nanny's worker, the zipapp's re-executed Python). */
async function isSelfOrDescendant(pid: number, ancestor: number): Promise<boolean> {
  for (let current = pid; current > 1; ) {
    if (current === ancestor) return true;
    const stat = await readFile(`/proc/${current}/stat`, "utf8").catch(() => "");
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after its last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!Number.isInteger(ppid)) return false;
    current = ppid;
  }
  return false;
}

/** The task ran under Debian's interpreter (the binary behind /usr/bin/python3, whatever its version). */
async function expectDebianPython(executable: string) {
  expect(await realpath(executable)).toBe((await pythonFacts(debianPython)).executable);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-dask-run-"));
  await mkdir(join(root, "no-home"));
  s3 = await startS3rver({ buckets: ["envs"] });
  ({ venv } = await createShippableVenv(root, { python: debianPython }));
  for (const packer of ["pex", "pex.zip"] as const)
    uploads[packer] = await uploadEnv({
      python: venv.python,
      packer,
      packagePath: `s3://envs/dask/team.${packer}`,
      fsArgs: s3StorageOptions(s3),
    });

  // The scheduler runs in the shipped environment too, from its own container directory.
  const schedulerFile = join(root, "scheduler.json");
  const { scheduler } = configFor("pex", {
    schedulerFile,
    schedulerArgs: ["--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
  });
  schedulerDirectory = await localize(scheduler.files);
  const [command = "", ...args] = scheduler.command;
  const started = startGroup(command, args, {
    cwd: schedulerDirectory,
    env: nodeEnv(scheduler.environmentVariables),
  });
  schedulerProcess = started;
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (schedulerAddress === undefined) {
    const written = await readFile(schedulerFile, "utf8").catch(() => "");
    if (written) schedulerAddress = (JSON.parse(written) as { address: string }).address;
    else if (Date.now() > deadline || started.child.exitCode !== null)
      throw new Error(`the scheduler did not start:\n${started.output()}`);
    else await sleep(200);
  }
}, 240_000);

afterAll(async () => {
  await Promise.all(running.map(stopGroup));
  for (const container of containers) await container.cleanup();
  await s3?.stop();
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

function configFor(packer: "pex" | "pex.zip", options: Parameters<typeof daskConfig>[1]): DaskConfig {
  const uploaded = uploads[packer];
  if (!uploaded) throw new Error(`the ${packer} upload failed`);
  return daskConfig(getPyenvUsageFromArchive(uploaded.packagePath), {
    editable: uploaded.editable,
    editableIndex: uploaded.editableIndex,
    ...options,
  });
}

describe("a Dask worker started with the emitted command", () => {
  it("runs the scheduler in the shipped zipapp: code sent to it imports both packages from its container", async () => {
    const directory = await mkdtemp(join(root, "client-"));
    const outcome = await execute(debianPython, ["-c", clientScript, schedulerAddress, "--scheduler"], {
      cwd: directory,
      env: { PATH: NODE_PATH, HOME: directory },
    });
    if (outcome.code !== 0)
      throw new Error(
        `client failed: ${outcome.stderr}\n--- scheduler output ---\n${schedulerProcess.output()}`,
      );
    const found = JSON.parse(outcome.stdout) as Found;
    // The process answering at the address the scheduler file gave is the one the emitted command started.
    expect(await isSelfOrDescendant(found.pid, schedulerProcess.child.pid as number)).toBe(true);
    expect(found.values).toEqual(["wheel", "dev"]);
    await expectDebianPython(found.executable);
    expect(await realpath(found.pex ?? "")).toBe(await realpath(join(schedulerDirectory, "team.pex")));
    expect(normalize(found.purepkg).startsWith(`${join(await realpath(schedulerDirectory), ".pex")}/`)).toBe(
      true,
    );
    expect(found.devpkg).toBe(join(schedulerDirectory, "devpkg.zip", "devpkg", "__init__.py"));
    expect(JSON.stringify(found)).not.toContain(venv.prefix);
  });

  it("runs tasks with both packages from the shipped zipapp", async () => {
    const { worker } = configFor("pex", {
      schedulerAddress,
      workerArgs: ["--host", "127.0.0.1", "--no-dashboard", "--nthreads", "1", "--name", "zipapp-worker"],
    });
    expect(worker.command.slice(0, 3)).toEqual(["./team.pex", "-m", "distributed.cli.dask_worker"]);
    const directory = await localize(worker.files);
    const [command = "", ...args] = worker.command;
    const started = startGroup(command, args, { cwd: directory, env: nodeEnv(worker.environmentVariables) });
    try {
      // The scheduler lists the worker by the name it was started with, and the task ran in that process tree.
      const found = await askWorker("zipapp-worker", started);
      expect(await isSelfOrDescendant(found.pid, started.child.pid as number)).toBe(true);
      expect(found.values).toEqual(["wheel", "dev"]);
      await expectDebianPython(found.executable);
      expect(await realpath(found.pex ?? "")).toBe(await realpath(join(directory, "team.pex")));
      // Extracted into the container's PEX_ROOT, the editable code from its zip, nothing from the venv.
      expect(normalize(found.purepkg).startsWith(`${join(await realpath(directory), ".pex")}/`)).toBe(true);
      expect(found.devpkg).toBe(join(directory, "devpkg.zip", "devpkg", "__init__.py"));
      expect(JSON.stringify(found)).not.toContain(venv.prefix);
    } finally {
      await stopGroup(started.child);
    }
  }, 120_000);

  it("runs tasks with both packages from the unpack layout, used in place", async () => {
    const { worker } = configFor("pex.zip", {
      schedulerAddress,
      workerArgs: ["--host", "127.0.0.1", "--no-dashboard", "--nthreads", "1", "--name", "unpacked-worker"],
    });
    expect(worker.files.pyenv).toMatchObject({ source: "s3a://envs/dask/team.pex.zip", type: "archive" });
    const directory = await localize(worker.files);
    const [command = "", ...args] = worker.command;
    expect(command).toBe("pyenv/__main__.py");
    const started = startGroup(command, args, { cwd: directory, env: nodeEnv(worker.environmentVariables) });
    try {
      const found = await askWorker("unpacked-worker", started);
      expect(await isSelfOrDescendant(found.pid, started.child.pid as number)).toBe(true);
      expect(found.values).toEqual(["wheel", "dev"]);
      await expectDebianPython(found.executable);
      expect(await realpath(found.purepkg)).toBe(
        await realpath(join(directory, "pyenv", ".deps", "purepkg", "__init__.py")),
      );
      expect(found.devpkg).toBe(join(directory, "devpkg.zip", "devpkg", "__init__.py"));
      expect(JSON.stringify(found)).not.toContain(venv.prefix);
    } finally {
      await stopGroup(started.child);
    }
  }, 120_000);
});

describe("the dask-yarn spec's worker service", () => {
  it("joins the scheduler skein names, sized by its container, with the shipped packages", async () => {
    const uploaded = uploads.pex;
    if (!uploaded) throw new Error("the pex upload failed");
    const spec = daskYarnSpec(getPyenvUsageFromArchive(uploaded.packagePath), {
      editable: uploaded.editable,
      editableIndex: uploaded.editableIndex,
      workerArgs: ["--host", "127.0.0.1", "--no-dashboard"],
    });
    const service = spec.services["dask.worker"];
    if (!service) throw new Error("no dask.worker service");
    const directory = await localize(service.files);
    // skein is not installable offline: a module with its interface answers the one question the worker asks.
    const fakeSkein = join(root, "fake-skein");
    await mkdir(fakeSkein, { recursive: true });
    await writeFile(
      join(fakeSkein, "skein.py"),
      `import os

class _KeyValueStore:
    def wait(self, key):
        assert key == "dask.scheduler", key
        return os.environ["FAKE_SKEIN_SCHEDULER"].encode()

class ApplicationClient:
    kv = _KeyValueStore()

    @classmethod
    def from_current(cls):
        return cls()
`,
    );
    await writeFile(join(directory, "..", "launch_container.sh"), service.script);
    // What skein's application master gives every container of the service.
    const containerEnv = {
      ...service.env,
      SKEIN_CONTAINER_ID: "dask.worker_0",
      SKEIN_RESOURCE_VCORES: "1",
      SKEIN_RESOURCE_MEMORY: "512",
      PYTHONPATH: fakeSkein,
      FAKE_SKEIN_SCHEDULER: schedulerAddress,
    };
    const started = startGroup("bash", [join(directory, "..", "launch_container.sh")], {
      cwd: directory,
      env: nodeEnv(containerEnv),
    });
    try {
      const found = await askWorker("dask.worker_0", started);
      expect(await isSelfOrDescendant(found.pid, started.child.pid as number)).toBe(true);
      expect(found.values).toEqual(["wheel", "dev"]);
      await expectDebianPython(found.executable);
      expect(found.nthreads).toBe(1);
      expect(found.memory_limit).toBe(512 * 2 ** 20);
      expect(normalize(found.purepkg).startsWith(`${join(await realpath(directory), ".pex")}/`)).toBe(true);
      expect(found.devpkg).toBe(join(directory, "devpkg.zip", "devpkg", "__init__.py"));
    } finally {
      await stopGroup(started.child);
    }
  }, 120_000);
});
