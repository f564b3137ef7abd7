import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { firstLine } from "@cluster-pack/errors";
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

function runProbe(python: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      python,
      ["-c", interpreterProbeScript],
      { env, timeout: 60_000, maxBuffer: 4 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (!error) return resolvePromise(stdout);
        const errno = errnoOf(error);
        const detail =
          errno === "ENOENT"
            ? "no such file"
            : errno === "EACCES"
              ? "not executable"
              : errno === "ENOEXEC"
                ? "not an executable program"
                : `not a Python interpreter (it failed: ${firstLine(stderr || stdout) || error.message})`;
        reject(new PythonEnvError("NOT_A_PYTHON", detail, { location: python, cause: error }));
      },
    );
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
    `not a Python interpreter (it printed ${JSON.stringify(firstLine(stdout, 60))} instead of the probe's answer)`,
    { location: python },
  );
}

/** Runs the probe script through `python` (one subprocess) and describes the interpreter. */
export async function probeInterpreter(
  python: string,
  options: { source?: InterpreterSource; env?: NodeJS.ProcessEnv } = {},
): Promise<Interpreter> {
  const answer = parseAnswer(python, await runProbe(python, options.env ?? process.env));
  const [major, minor] = answer.versionInfo;
  if (major !== 3 || minor < 9)
    throw new PythonEnvError("NOT_A_PYTHON", `Python ${answer.version} is too old: 3.9 or later is needed`, {
      location: python,
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
  return probeInterpreter(python, { source, ...(options.env && { env: options.env }) });
}
