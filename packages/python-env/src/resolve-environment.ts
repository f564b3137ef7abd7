import { execFile } from "node:child_process";
import { readdir, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { firstLine, sanitizeLine } from "@cluster-pack/errors";
import { readCondaEnvironmentFile } from "./conda-environment-file.js";
import { isPythonEnvError, PythonEnvError } from "./errors.js";
import { findExecutable } from "./find-executable.js";

/** Where packages come from; `indexUrl` defaults to `C_PACK_PYPI_URL`, as in cluster-pack. */
export interface IndexOptions {
  indexUrl?: string;
  extraIndexUrls?: readonly string[];
  /** Directories or HTML pages listing wheels (`--find-links`). */
  findLinks?: readonly string[];
  /** Use only `findLinks` (`--no-index`). */
  noIndex?: boolean;
}

/** What the staging environment must contain. */
export type EnvironmentSpec =
  /** pip requirement strings or local wheel paths (`formatRequirements` of a requirement set). */
  { requirements: readonly string[] } | { requirementsFile: string } | { condaEnvironmentFile: string };

export interface ResolveEnvironmentOptions extends IndexOptions {
  /** The interpreter the venv is created from (ignored for conda specs, which bring their own Python). */
  python: string;
  spec: EnvironmentSpec;
  /** Where the environment is created; it should not exist yet. */
  prefix: string;
  /** Environment for the tools: `PATH` decides whether `uv`/`conda`… are used; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export type ResolverTool = "uv" | "pip" | "mamba" | "micromamba" | "conda";

export interface StagingEnvironment {
  prefix: string;
  /** The new environment's interpreter, to probe and list. */
  python: string;
  /** What built it. */
  tool: ResolverTool;
}

/** The order conda front-ends are preferred in: the faster solvers first. */
const condaTools = ["mamba", "micromamba", "conda"] as const;

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  tool: ResolverTool,
): Promise<void> {
  return new Promise((done, reject) => {
    execFile(command, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return done();
      const reason = failureLineOf(String(stderr)) || error.message;
      reject(
        new PythonEnvError("RESOLUTION_FAILED", `${tool} failed: ${sanitizeLine(firstLine(reason, 160))}`, {
          cause: error,
        }),
      );
    });
  });
}

/** pip and uv end with the line that matters ("ERROR: No matching distribution found for …"). */
export function failureLineOf(stderr: string): string {
  const lines = stderr.trim().split("\n");
  return lines.findLast((line) => /error/i.test(line)) ?? lines.at(-1) ?? "";
}

export function indexArguments(options: IndexOptions, env: NodeJS.ProcessEnv): string[] {
  const indexUrl = options.indexUrl ?? env.C_PACK_PYPI_URL;
  return [
    ...(options.noIndex ? ["--no-index"] : []),
    ...(indexUrl && !options.noIndex ? ["--index-url", indexUrl] : []),
    ...(options.extraIndexUrls ?? []).flatMap((url) => ["--extra-index-url", url]),
    ...(options.findLinks ?? []).flatMap((link) => ["--find-links", link]),
  ];
}

/** The same index options for a pip run we do not call ourselves (the `pip:` section of environment.yml). */
function pipEnvironment(options: IndexOptions, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const indexUrl = options.indexUrl ?? env.C_PACK_PYPI_URL;
  return {
    ...env,
    ...(indexUrl && { PIP_INDEX_URL: indexUrl }),
    ...(options.extraIndexUrls?.length && { PIP_EXTRA_INDEX_URL: options.extraIndexUrls.join(" ") }),
    ...(options.findLinks?.length && { PIP_FIND_LINKS: options.findLinks.join(" ") }),
    ...(options.noIndex && { PIP_NO_INDEX: "1" }),
  };
}

async function requireFile(path: string, what: string) {
  const isFile = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isFile) throw new PythonEnvError("INVALID_ARGUMENT", `${what}: no such file`, { location: path });
}

async function resolveConda(file: string, options: ResolveEnvironmentOptions, env: NodeJS.ProcessEnv) {
  await readCondaEnvironmentFile(file);
  for (const tool of condaTools) {
    const command = await findExecutable(tool, env);
    if (!command) continue;
    const args =
      tool === "conda"
        ? ["env", "create", "--quiet", "-p", options.prefix, "-f", file]
        : ["create", "--yes", "--quiet", "-p", options.prefix, "-f", file];
    await run(command, args, pipEnvironment(options, env), tool);
    return { prefix: options.prefix, python: join(options.prefix, "bin", "python"), tool };
  }
  throw new PythonEnvError(
    "MISSING_TOOL",
    "building a conda environment needs mamba, micromamba or conda on PATH: install micromamba (https://mamba.readthedocs.io), or give pip requirements instead",
    { location: file },
  );
}

/**
 * Builds a staging environment holding exactly `spec`, for when the set to pack differs from the user's
 * environment: conda specs with mamba/micromamba/conda, pip specs with `uv` when it is on PATH (much faster),
 * else `python -m venv` and the venv's own `pip install`.
 */
export async function resolveEnvironment(options: ResolveEnvironmentOptions): Promise<StagingEnvironment> {
  await requireFreshPrefix(resolve(options.prefix));
  try {
    return await build(options);
  } catch (error) {
    // A half-built environment must not be mistaken for a good one by the next run.
    if (isPythonEnvError(error, "RESOLUTION_FAILED"))
      await rm(resolve(options.prefix), { recursive: true, force: true });
    throw error;
  }
}

/** The staging prefix is removed when a build fails, so it must not hold anything of the user's. */
export async function requireFreshPrefix(prefix: string): Promise<void> {
  const entries = await readdir(prefix).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw new PythonEnvError("INVALID_ARGUMENT", "cannot use this path for a staging environment", {
      location: prefix,
      cause: error,
    });
  });
  if (entries.length > 0) {
    throw new PythonEnvError(
      "INVALID_ARGUMENT",
      "already exists and is not empty; give a new directory for the staging environment",
      {
        location: prefix,
      },
    );
  }
}

async function build(options: ResolveEnvironmentOptions): Promise<StagingEnvironment> {
  const env = options.env ?? process.env;
  const { spec } = options;
  const prefix = resolve(options.prefix);
  if ("condaEnvironmentFile" in spec) {
    const file = resolve(spec.condaEnvironmentFile);
    await requireFile(file, "conda environment file");
    return resolveConda(file, { ...options, prefix }, env);
  }
  let packages: string[];
  if ("requirementsFile" in spec) {
    const file = resolve(spec.requirementsFile);
    await requireFile(file, "requirements file");
    packages = ["-r", file];
  } else packages = [...spec.requirements];
  const python = join(prefix, "bin", "python");
  const indexes = indexArguments(options, env);
  const uv = await findExecutable("uv", env);
  if (uv) {
    // No --seed: uv installs without pip in the target, and build tools are out of every comparison anyway.
    await run(uv, ["venv", "--quiet", "--python", options.python, prefix], env, "uv");
    if (packages.length > 0)
      await run(uv, ["pip", "install", "--quiet", "--python", python, ...indexes, ...packages], env, "uv");
    return { prefix, python, tool: "uv" };
  }
  await run(options.python, ["-m", "venv", prefix], env, "pip");
  if (packages.length > 0)
    await run(
      python,
      ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", ...indexes, ...packages],
      env,
      "pip",
    );
  return { prefix, python, tool: "pip" };
}
