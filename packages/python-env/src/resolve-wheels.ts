import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { firstLine, redactUrlCredentials, sanitizeLine } from "@cluster-pack/errors";
import { PythonEnvError } from "./errors.js";
import { normalizeName } from "./normalize-name.js";
import { failureLineOf, type IndexOptions, indexArguments } from "./resolve-environment.js";
import type { SpecTarget } from "./spec-lock.js";
import type { TargetPlatform } from "./target-platform.js";
import { wheelTagProblem } from "./wheel-compatibility.js";
import { isSourceDistribution, parseWheelFileName } from "./wheel-file-name.js";

export interface ResolveWheelsOptions extends IndexOptions {
  /** The interpreter whose pip resolves (it is not the target: pip is told the target's tags). */
  python: string;
  /** pip requirement strings (`name==1.0`, `./x.whl`) or a requirements file. */
  requirements?: readonly string[];
  requirementsFile?: string;
  /** The target given on the command line; undefined: the interpreter's own (pip resolves for itself). */
  target?: SpecTarget;
  /** The same target, to check each wheel's tags against. */
  targetPlatform: TargetPlatform;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** One wheel pip chose: where it is and what pip says its sha256 is (checked again once downloaded). */
export interface ResolvedWheel {
  name: string;
  version: string;
  file: string;
  url: string;
  sha256?: string;
}

/** The target in one phrase, for messages: `platform manylinux2014_x86_64, Python 3.12, implementation cp`. */
export function describeSpecTarget(target: SpecTarget): string {
  return `platform ${target.platforms.join(", ")}, Python ${target.pythonVersion}, implementation ${target.implementation}`;
}

/** Why a wheel cannot go to the target (its file and tags named), or undefined when one of its tags fits. */
export function wheelMisfit(file: string, target: TargetPlatform): string | undefined {
  const { tag } = parseWheelFileName(file);
  const problem = wheelTagProblem(tag, target);
  return (
    problem &&
    `${sanitizeLine(file)} does not fit the target (tags ${sanitizeLine(tag)}: ${sanitizeLine(problem)})`
  );
}

const sourceRefusal = (file: string) =>
  `${sanitizeLine(file)} is a source distribution: build a wheel first (pip wheel …) and give it with --find-links`;

function runPip(python: string, args: readonly string[], options: ResolveWheelsOptions): Promise<void> {
  return new Promise((done, reject) => {
    execFile(
      python,
      ["-m", "pip", ...args],
      {
        env: { ...(options.env ?? process.env), PIP_DISABLE_PIP_VERSION_CHECK: "1" },
        maxBuffer: 64 * 1024 * 1024,
        ...(options.signal && { signal: options.signal }),
      },
      (error, _stdout, stderr) => (error ? reject(Object.assign(error, { stderr: String(stderr) })) : done()),
    );
  });
}

/** The requirement tokens that name files (wheels or sdists), from strings or a requirements file's lines. */
async function namedFiles(options: ResolveWheelsOptions): Promise<string[]> {
  const lines = options.requirementsFile
    ? (await readFile(options.requirementsFile, "utf8")).split(/\r?\n/)
    : [...(options.requirements ?? [])];
  return lines
    .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
    .filter((line) => /\.(whl|tar\.gz|tgz|zip|tar\.bz2)$/i.test(line))
    .map((line) => line.replace(/^.*@\s*/, ""));
}

/** Files an index or a `--find-links` place offers for a name: a directory read, a PEP 503 page fetched. */
async function offeredFiles(name: string, options: ResolveWheelsOptions): Promise<string[]> {
  const env = options.env ?? process.env;
  const normalized = normalizeName(name);
  const pages: string[] = [];
  const files: string[] = [];
  for (const link of options.findLinks ?? []) {
    if (/^https?:/.test(link)) pages.push(link);
    else {
      const directory = link.startsWith("file:") ? fileURLToPath(link) : resolve(link);
      files.push(...(await readdir(directory).catch(() => [])));
    }
  }
  const indexUrl = options.indexUrl ?? env.C_PACK_PYPI_URL;
  if (!options.noIndex)
    for (const index of [...(indexUrl ? [indexUrl] : []), ...(options.extraIndexUrls ?? [])])
      pages.push(`${index.replace(/\/+$/, "")}/${normalized}/`);
  for (const page of pages) {
    const html = await fetch(page, { signal: AbortSignal.timeout(10_000) })
      .then((response) => (response.ok ? response.text() : ""))
      .catch(() => "");
    for (const match of html.matchAll(/href="([^"#]+)/g))
      files.push(decodeURIComponent(basename(new URL(match[1] ?? "", page).pathname)));
  }
  const ofName = (file: string) =>
    normalizeName(file.replace(/\.(whl|tar\.gz|tgz|zip|tar\.bz2)$/i, "").split("-")[0] ?? "") === normalized;
  return [...new Set(files.filter(ofName))].sort();
}

/** pip found nothing for `name`: say what the index has instead (misfit wheels with their tags, sdists), and the target. */
async function noMatch(name: string, options: ResolveWheelsOptions, target: string): Promise<PythonEnvError> {
  const files = await offeredFiles(name, options);
  const wheels = files.filter((file) => file.endsWith(".whl"));
  const misfits = wheels.map((file) => wheelMisfit(file, options.targetPlatform)).filter(Boolean);
  const safeName = sanitizeLine(name);
  if (misfits.length > 0)
    return new PythonEnvError(
      "RESOLUTION_FAILED",
      `no wheel of ${safeName} fits the target (${target}): ${misfits.join("; ")}`,
    );
  const sdist = files.find(isSourceDistribution);
  if (sdist) return new PythonEnvError("RESOLUTION_FAILED", sourceRefusal(sdist));
  return new PythonEnvError(
    "RESOLUTION_FAILED",
    `no wheel of ${safeName} found for the target (${target}): check the name and the indexes (--index-url, --find-links)`,
  );
}

/**
 * Resolves a requirement set to binary wheels for a target with the interpreter's own pip: `pip install --dry-run
 * --ignore-installed --report`, which runs no build and installs nothing, with `--only-binary=:all:` and the
 * target's `--platform`, `--python-version`, `--implementation`. The report gives each wheel's URL (and its sha256
 * when the index publishes it). Refuses sdists and wheels that do not fit the target, naming the file.
 */
export async function resolveWheels(options: ResolveWheelsOptions): Promise<ResolvedWheel[]> {
  const env = options.env ?? process.env;
  const targetText = options.target
    ? describeSpecTarget(options.target)
    : `this interpreter: ${options.targetPlatform.os} ${options.targetPlatform.machine}, Python ${options.targetPlatform.pythonVersion}`;
  for (const file of await namedFiles(options)) {
    if (!file.endsWith(".whl")) throw new PythonEnvError("INVALID_ARGUMENT", sourceRefusal(basename(file)));
    const misfit = wheelMisfit(basename(file), options.targetPlatform);
    if (misfit) throw new PythonEnvError("INVALID_ARGUMENT", misfit);
  }
  await runPip(options.python, ["--version"], options).catch((error: unknown) => {
    throw new PythonEnvError(
      "MISSING_TOOL",
      "this interpreter has no pip to resolve with: install it (python -m ensurepip) or give another --python",
      { location: sanitizeLine(options.python), cause: error },
    );
  });
  const work = await mkdtemp(join(tmpdir(), "cluster-pack-resolve-"));
  try {
    const report = join(work, "report.json");
    const target = options.target;
    const targetArguments = target
      ? [
          ...target.platforms.flatMap((platform) => ["--platform", platform]),
          "--python-version",
          target.pythonVersion,
          "--implementation",
          target.implementation,
        ]
      : [];
    const requirements = options.requirementsFile
      ? ["-r", options.requirementsFile]
      : [...(options.requirements ?? [])];
    try {
      await runPip(
        options.python,
        [
          "install",
          "--dry-run",
          "--ignore-installed",
          "--quiet",
          "--only-binary=:all:",
          // pip takes target tags only for an install elsewhere; with --dry-run nothing is written there.
          "--target",
          join(work, "unused-target"),
          "--report",
          report,
          ...targetArguments,
          ...indexArguments(options, env),
          ...requirements,
        ],
        options,
      );
    } catch (error) {
      const stderr = String((error as { stderr?: string }).stderr ?? "");
      const missing = /No matching distribution found for ([A-Za-z0-9._-]+)/.exec(stderr)?.[1];
      if (missing) throw await noMatch(missing, options, targetText);
      const reason = failureLineOf(stderr) || String(error);
      throw new PythonEnvError(
        "RESOLUTION_FAILED",
        `pip could not resolve for the target (${targetText}): ${sanitizeLine(firstLine(redactUrlCredentials(reason), 200))}`,
        { cause: error },
      );
    }
    const parsed = JSON.parse(await readFile(report, "utf8")) as {
      install?: {
        download_info?: { url?: string; archive_info?: { hash?: string; hashes?: Record<string, string> } };
        metadata?: { name?: string; version?: string };
      }[];
    };
    return (parsed.install ?? []).map((item) => {
      const url = item.download_info?.url ?? "";
      const file = decodeURIComponent(basename(new URL(url).pathname));
      if (!file.endsWith(".whl")) throw new PythonEnvError("INVALID_ARGUMENT", sourceRefusal(file));
      const misfit = wheelMisfit(file, options.targetPlatform);
      if (misfit) throw new PythonEnvError("RESOLUTION_FAILED", misfit);
      const info = item.download_info?.archive_info;
      const sha256 =
        info?.hashes?.sha256 ?? (info?.hash?.startsWith("sha256=") ? info.hash.slice(7) : undefined);
      const { name, version } = parseWheelFileName(file);
      return {
        name: item.metadata?.name ?? name,
        version: item.metadata?.version ?? version,
        file,
        url,
        ...(sha256 && { sha256 }),
      };
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
