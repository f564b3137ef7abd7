import { mkdtemp, rm, stat } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import {
  type ArchiveFormat,
  archiveFormats,
  describeExtensions,
  formatOfPath,
} from "@cluster-pack/env-usage";
import { isClusterPackError, sanitizeLine } from "@cluster-pack/errors";
import pMap from "p-map";
import { checkElfFiles } from "./elf-check.js";
import { VerifyError } from "./errors.js";
import { machineLibraries } from "./machine-libraries.js";
import { runPython } from "./python-run.js";
import { topLevelModules } from "./top-level-modules.js";
import { unpackArchive } from "./unpacked-archive.js";
import type { ElfCheck, ModuleCheck, VerifyReport } from "./verify-report.js";

export interface VerifyArchiveOptions {
  /**
   * The Python the nodes run: for a zipapp (`.pex`, `.pex.zip`) default the one its shebang names (`python3.11`);
   * for a venv archive that links to its base interpreter, instead of that link's target. A conda archive, or a
   * venv archive packed with its Python, runs its own.
   */
  python?: string;
  /** How long one import (or the archive's start) may take before it is killed and reported; default 60 s. */
  timeoutMs?: number;
  /** Imports run at once; default the number of CPUs, at most 4. */
  concurrency?: number;
  /** Where the archive is unpacked (in a directory of its own, removed at the end); default the system's. */
  workDirectory?: string;
  signal?: AbortSignal;
  /** For messages and the report: the archive as the user named it (a stored URI downloaded to `path`). */
  displayName?: string;
}

export const DEFAULT_VERIFY_TIMEOUT_MS = 60_000;
const STARTUP_TIMEOUT_MS = 600_000;

/**
 * The format an archive's name says; throws `INVALID_ARGUMENT` for a name that is none of ours, before anything is
 * read or downloaded. `displayName` is the archive as the user named it, for the message.
 */
export function verifiableFormatOf(path: string, displayName = path): ArchiveFormat {
  const format = formatOfPath(path);
  if (format) return format;
  throw new VerifyError(
    "INVALID_ARGUMENT",
    `not an environment archive: the name must end in ${describeExtensions(archiveFormats)}`,
    { location: sanitizeLine(displayName) },
  );
}

// The code each import runs: the module name comes as an argument, never spliced into code.
const IMPORT_CODE = "import importlib, sys; importlib.import_module(sys.argv[1])";

/**
 * Runs an archive as a node would, in a work directory of its own: unpacked where the cluster unpacks it (or, for
 * a zipapp, run as it is with a fresh PEX_ROOT), with nothing of this machine's Python setup visible. Imports
 * every top-level module its distributions ship, each in a process of its own with a timeout, so one crash or hang
 * hides nothing else; checks that every ELF file's libraries resolve inside the archive or on this machine.
 * Throws `VerifyError` only for what cannot be checked; a broken archive is a report whose `ok` is false.
 */
export async function verifyArchive(path: string, options: VerifyArchiveOptions = {}): Promise<VerifyReport> {
  const displayName = options.displayName ?? path;
  const location = sanitizeLine(displayName);
  const format = verifiableFormatOf(path, displayName);
  const timeoutMs = options.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
  // Starting includes extracting a zipapp or running conda-unpack over the whole environment: a multi-GB one takes
  // minutes where an import takes seconds, so the first run gets at least ten.
  const startupTimeoutMs = Math.max(timeoutMs, STARTUP_TIMEOUT_MS);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new VerifyError(
      "INVALID_ARGUMENT",
      `the timeout must be a positive number of milliseconds, not ${timeoutMs}`,
      {
        location,
      },
    );
  const concurrency = options.concurrency ?? Math.min(4, availableParallelism());
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new VerifyError(
      "INVALID_ARGUMENT",
      `the concurrency must be a whole number from 1, not ${concurrency}`,
      {
        location,
      },
    );
  const archiveStats = await stat(path).catch(() => undefined);
  if (!archiveStats?.isFile()) throw new VerifyError("NOT_FOUND", "no such archive", { location });

  const work = await mkdtemp(join(options.workDirectory ?? tmpdir(), "cluster-pack-verify-"));
  try {
    const unpacked = await unpackArchive(path, format, work, { python: options.python, location }).catch(
      (error: unknown) => {
        if (isClusterPackError(error)) throw error;
        throw new VerifyError(
          "IO",
          `cannot unpack into ${sanitizeLine(work)}: ${sanitizeLine(String((error as Error).message))}`,
          {
            location,
            cause: error,
          },
        );
      },
    );
    const importModule = (module: string) =>
      runPython([...unpacked.interpreterCommand, "-c", IMPORT_CODE, module], {
        env: unpacked.env,
        cwd: work,
        timeoutMs,
        signal: options.signal,
      });
    const elfFiles = await checkElfFiles(unpacked.root, await machineLibraries());
    const modules = await topLevelModules(unpacked.siteDirectories);
    const moduleOf = (elfPath: string) => {
      const absolute = join(unpacked.root, ...elfPath.split("/"));
      for (const site of unpacked.siteDirectories) {
        const inside = relative(site, absolute);
        if (inside.startsWith("..")) continue;
        const [first = "", ...rest] = inside.split(sep);
        const name = rest.length > 0 ? first : (first.split(".")[0] ?? first);
        return modules.find((module) => module.module === name)?.module;
      }
      return undefined;
    };
    const elfChecks: ElfCheck[] = elfFiles.map((file) => {
      const module = moduleOf(file.path);
      return {
        path: sanitizeLine(file.path),
        ...(module !== undefined && { module }),
        missingLibraries: file.missingLibraries,
      };
    });
    const report = (startup: VerifyReport["startup"], checked: ModuleCheck[]): VerifyReport => ({
      archive: displayName,
      format,
      interpreterCommand: unpacked.interpreterCommand,
      startup,
      modules: checked,
      elfFiles: elfChecks,
      ok:
        startup.ok &&
        checked.every((module) => module.ok) &&
        elfChecks.every((file) => file.missingLibraries.length === 0),
    });

    // A node runs conda-unpack, then the interpreter; a first empty run also extracts a zipapp once, before the
    // imports that would otherwise all wait on its lock.
    for (const command of unpacked.setup) {
      const setup = await runPython(command, {
        env: unpacked.env,
        cwd: work,
        timeoutMs: startupTimeoutMs,
        signal: options.signal,
      });
      if (!setup.ok) return report({ ok: false, error: `conda-unpack failed: ${setup.error}` }, []);
    }
    const startup = await runPython([...unpacked.interpreterCommand, "-c", "pass"], {
      env: unpacked.env,
      cwd: work,
      timeoutMs: startupTimeoutMs,
      signal: options.signal,
    });
    if (!startup.ok)
      return report({ ok: false, ...(startup.error !== undefined && { error: startup.error }) }, []);

    const checked = await pMap(
      modules,
      async ({ module, distribution }): Promise<ModuleCheck> => {
        const imported = await importModule(module);
        const missingLibraries = [
          ...new Set([
            ...imported.missingLibraries,
            ...elfChecks.filter((file) => file.module === module).flatMap((file) => file.missingLibraries),
          ]),
        ].sort();
        const error =
          imported.error ??
          (missingLibraries.length > 0
            ? `imports, but needs ${missingLibraries.join(", ")}, found neither in the archive nor on this machine`
            : undefined);
        return {
          module,
          distribution,
          ok: error === undefined,
          ...(error !== undefined && { error }),
          missingLibraries,
        };
      },
      { concurrency },
    );
    return report({ ok: true }, checked);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
