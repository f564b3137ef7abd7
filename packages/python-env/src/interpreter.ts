import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { firstLine, sanitizeLine } from "@cluster-pack/errors";
import { errnoOf } from "./errno.js";
import { PythonEnvError } from "./errors.js";
import { findExecutable } from "./find-executable.js";
import { interpreterProbeScript } from "./interpreter-probe-script.js";
import { supportedPlatformTags, type TargetPlatform } from "./target-platform.js";

/** Where the interpreter came from, in the order they are tried. */
export type InterpreterSource = "option" | "VIRTUAL_ENV" | "CONDA_PREFIX" | "PATH";

/** What one probe of an interpreter found. */
export interface Interpreter {
  /** The command that was probed (absolute when found by `findInterpreter`). */
  python: string;
  source: InterpreterSource;
  /** `sys.executable`. */
  executable: string;
  /** `"3.11.7"`, what cluster-pack records as `python_version`. */
  version: string;
  implementation: string;
  /** `"cp311"`. */
  pythonTag: string;
  /** `"cp311"`. */
  abiTag: string;
  prefix: string;
  basePrefix: string;
  kind: "venv" | "conda" | "system";
  paths: { purelib: string; platlib: string; scripts: string };
  /** The environment's own site directories, the ones `pip list -l` reads. */
  sitePackages: string[];
  /** Other site directories on `sys.path`: a venv's base (with `--system-site-packages`), the user site. */
  systemSitePackages: string[];
  /** `platform.platform()`, what cluster-pack records as `platform`. */
  platform: string;
  /** The interpreter's own platform, the default target of compatibility checks. */
  target: TargetPlatform;
  /** The wheel platform tags this interpreter accepts, most specific first. */
  platformTags: string[];
}

export interface FindInterpreterOptions {
  /** An explicit interpreter (`--python`): a path or a command on PATH. */
  python?: string;
  /** The environment to read `VIRTUAL_ENV`, `CONDA_PREFIX` and `PATH` from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * How long the interpreter may take to answer the probe, in milliseconds; default `C_PACK_PROBE_TIMEOUT`
   * (seconds) of `env`, else 60 s (`DEFAULT_PROBE_TIMEOUT_MS`).
   */
  probeTimeoutMs?: number;
}

/** A cold start on a network file system with a large site-packages stays well under a minute. */
export const DEFAULT_PROBE_TIMEOUT_MS = 60_000;

/** The probe's time limit: the option, else `C_PACK_PROBE_TIMEOUT` (seconds), else the default; a bad one refused. */
export function probeTimeoutOf(options: Pick<FindInterpreterOptions, "env" | "probeTimeoutMs">): number {
  const fromEnv = (options.env ?? process.env).C_PACK_PROBE_TIMEOUT;
  const [timeout, what] =
    options.probeTimeoutMs !== undefined
      ? [options.probeTimeoutMs, `probeTimeoutMs ${options.probeTimeoutMs}`]
      : fromEnv !== undefined && fromEnv !== ""
        ? [Number(fromEnv) * 1000, `C_PACK_PROBE_TIMEOUT=${sanitizeLine(fromEnv)}`]
        : [DEFAULT_PROBE_TIMEOUT_MS, ""];
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new PythonEnvError(
      "INVALID_ARGUMENT",
      `${what} is not a time limit: give a positive number (C_PACK_PROBE_TIMEOUT is in seconds)`,
    );
  return timeout;
}

const binary = (prefix: string) =>
  process.platform === "win32" ? join(prefix, "python.exe") : join(prefix, "bin", "python");

/** Picks the interpreter: the explicit option, else the active venv, else the active conda env, else `python3`. */
export async function findInterpreter(
  options: FindInterpreterOptions = {},
): Promise<{ python: string; source: InterpreterSource }> {
  const env = options.env ?? process.env;
  if (options.python) {
    const onPath = options.python.includes("/") ? undefined : await findExecutable(options.python, env);
    return { python: onPath ?? resolve(options.python), source: "option" };
  }
  if (env.VIRTUAL_ENV)
    return {
      python:
        process.platform === "win32"
          ? join(env.VIRTUAL_ENV, "Scripts", "python.exe")
          : binary(env.VIRTUAL_ENV),
      source: "VIRTUAL_ENV",
    };
  if (env.CONDA_PREFIX) return { python: binary(env.CONDA_PREFIX), source: "CONDA_PREFIX" };
  const python = await findExecutable("python3", env);
  if (!python)
    throw new PythonEnvError(
      "NOT_A_PYTHON",
      "python3 is not on PATH; name the interpreter explicitly or activate an environment",
    );
  return { python, source: "PATH" };
}

interface ProbeAnswer {
  executable: string;
  version: string;
  versionInfo: [number, number, number];
  implementation: string;
  pythonTag: string;
  abiTag: string;
  prefix: string;
  basePrefix: string;
  isVenv: boolean;
  isConda: boolean;
  paths: Interpreter["paths"];
  sitePackages: string[];
  systemSitePackages: string[];
  platform: string;
  os: string;
  machine: string;
  glibcVersion: string | null;
  muslVersion: string | null;
  macosVersion: string | null;
}

const seconds = (milliseconds: number) => `${Number((milliseconds / 1000).toFixed(3))} s`;

/**
 * Runs the probe script in its own process group: a hung interpreter (a `sitecustomize` waiting on the network, a
 * wrapper script whose child holds the output open) is killed with everything it started once `timeoutMs` passes.
 */
function runProbe(python: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, ["-c", interpreterProbeScript], {
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    let failure: PythonEnvError | undefined;
    const stop = (error: PythonEnvError) => {
      failure ??= error;
      try {
        process.kill(-(child.pid ?? 0), "SIGKILL");
      } catch {
        // Already gone.
      }
      // Something that left the group may still hold the output open: stop waiting for it.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const timer = setTimeout(
      () =>
        stop(
          new PythonEnvError(
            "NOT_A_PYTHON",
            `did not answer within ${seconds(timeoutMs)} while probing the environment: check that it starts (run it with -c pass), or allow it longer with C_PACK_PROBE_TIMEOUT (seconds)`,
            { location: sanitizeLine(python) },
          ),
        ),
      timeoutMs,
    );
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      outputBytes += chunk.length;
      into.push(chunk);
      if (outputBytes > 4 * 1024 * 1024)
        stop(
          new PythonEnvError("NOT_A_PYTHON", "not a Python interpreter (it printed more than 4 MiB)", {
            location: sanitizeLine(python),
          }),
        );
    };
    child.stdout.on("data", collect(stdout));
    child.stderr.on("data", collect(stderr));
    child.on("error", (error) => {
      clearTimeout(timer);
      const errno = errnoOf(error);
      const detail =
        errno === "ENOENT"
          ? "no such file"
          : errno === "EACCES"
            ? "not executable"
            : errno === "ENOEXEC"
              ? "not an executable program"
              : `cannot be run: ${sanitizeLine(firstLine(error))}`;
      failure ??= new PythonEnvError("NOT_A_PYTHON", detail, {
        location: sanitizeLine(python),
        cause: error,
      });
      reject(failure);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      const out = Buffer.concat(stdout).toString("utf8");
      if (code === 0) return resolvePromise(out);
      const said =
        firstLine(Buffer.concat(stderr).toString("utf8") || out) ||
        (signal ? `killed by ${signal}` : `exit status ${code}`);
      reject(
        new PythonEnvError("NOT_A_PYTHON", `not a Python interpreter (it failed: ${sanitizeLine(said)})`, {
          location: sanitizeLine(python),
        }),
      );
    });
  });
}

function parseAnswer(python: string, stdout: string): ProbeAnswer {
  try {
    const answer = JSON.parse(stdout) as ProbeAnswer;
    if (typeof answer.version === "string" && Array.isArray(answer.sitePackages)) return answer;
  } catch {
    // Reported below with what the program printed instead.
  }
  throw new PythonEnvError(
    "NOT_A_PYTHON",
    `not a Python interpreter (it printed ${sanitizeLine(JSON.stringify(firstLine(stdout, 60)))} instead of the probe's answer)`,
    { location: sanitizeLine(python) },
  );
}

/** Runs the probe script through `python` (one subprocess) and describes the interpreter. */
export async function probeInterpreter(
  python: string,
  options: { source?: InterpreterSource; env?: NodeJS.ProcessEnv; probeTimeoutMs?: number } = {},
): Promise<Interpreter> {
  const env = options.env ?? process.env;
  const answer = parseAnswer(python, await runProbe(python, env, probeTimeoutOf(options)));
  const [major, minor] = answer.versionInfo;
  if (major !== 3 || minor < 9)
    throw new PythonEnvError("NOT_A_PYTHON", `Python ${answer.version} is too old: 3.9 or later is needed`, {
      location: sanitizeLine(python),
    });
  const target: TargetPlatform = {
    os: answer.os,
    machine: answer.machine,
    implementation: answer.implementation,
    pythonVersion: `${major}.${minor}`,
    abiTag: answer.abiTag,
    ...(answer.glibcVersion && { glibcVersion: answer.glibcVersion }),
    ...(answer.muslVersion && { muslVersion: answer.muslVersion }),
    ...(answer.macosVersion && { macosVersion: answer.macosVersion }),
  };
  return {
    python,
    source: options.source ?? "option",
    executable: answer.executable,
    version: answer.version,
    implementation: answer.implementation,
    pythonTag: answer.pythonTag,
    abiTag: answer.abiTag,
    prefix: answer.prefix,
    basePrefix: answer.basePrefix,
    // A conda env created by `conda create` is not a venv; a venv made from a conda Python is still a venv.
    kind: answer.isVenv ? "venv" : answer.isConda ? "conda" : "system",
    paths: answer.paths,
    sitePackages: answer.sitePackages,
    systemSitePackages: answer.systemSitePackages,
    platform: answer.platform,
    target,
    platformTags: supportedPlatformTags(target),
  };
}

/** Finds the interpreter (option, `VIRTUAL_ENV`, `CONDA_PREFIX`, `python3`) and probes it. */
export async function detectInterpreter(options: FindInterpreterOptions = {}): Promise<Interpreter> {
  const { python, source } = await findInterpreter(options);
  return probeInterpreter(python, {
    source,
    ...(options.env && { env: options.env }),
    ...(options.probeTimeoutMs !== undefined && { probeTimeoutMs: options.probeTimeoutMs }),
  });
}
