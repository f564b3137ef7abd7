/**
 * Build-before-test, made explicit: a package whose tests run its built files (`../dist/index.js`, the compression
 * workers, a copy of `dist/` in a child process, the CLI's `dist/cli.js`) would silently test old code after a
 * `src/` change. Its vitest.config.ts names this file as a `globalSetup`, so `pnpm vitest run` stops before any test
 * with one line saying what to rebuild.
 *
 * This module imports nothing but `node:` modules: the configs import it by relative path from testkit's src/, so
 * the check works in packages that do not depend on @cluster-pack/testkit (archive, fs) and before testkit itself
 * is built.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** The workspace root: the nearest directory above `directory` holding pnpm-workspace.yaml. */
function workspaceRoot(directory: string): string | undefined {
  for (let current = resolve(directory); ; current = dirname(current)) {
    if (existsSync(join(current, "pnpm-workspace.yaml"))) return current;
    if (dirname(current) === current) return undefined;
  }
}

/** The files under `directory` (recursively) with their modification times; none when it does not exist. */
function filesUnder(directory: string): { path: string; mtimeMs: number }[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      // `parentPath` since Node 20.12; `path` before it.
      const parent = (entry as { parentPath?: string }).parentPath ?? (entry as { path?: string }).path ?? "";
      const path = join(parent, entry.name);
      return { path, mtimeMs: statSync(path).mtimeMs };
    });
}

/**
 * The directories a build reads: src/ and the files it inlines (the packers' bootstrap/ and relocation/), that is
 * every top-level directory but the build's output, the tests and the benchmarks.
 */
function sourceDirectories(directory: string): string[] {
  const skipped = new Set(["dist", "node_modules", "test", "bench"]);
  return readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && !skipped.has(entry.name))
    .map((entry) => entry.name);
}

/**
 * Why the package at `packageDirectory` must be rebuilt before its tests run, in one line, or undefined when its
 * dist/ holds a build no source file is newer than. The build's time is that of the oldest file in dist/
 * (tsup's `clean` empties it first): `index.js` for a library, `cli.js` for the CLI.
 */
export function staleBuildReason(packageDirectory: string): string | undefined {
  const directory = resolve(packageDirectory);
  const root = workspaceRoot(directory);
  const shown = root ? relative(root, directory) || "." : directory;
  const { name } = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as { name: string };
  // --force: after a checkout or a touch that left the contents as they were, turbo replays its cache without
  // writing dist/ again, and the check would keep failing.
  const rebuild = `run pnpm turbo run build --filter=${name} --force`;
  const built = filesUnder(join(directory, "dist")).filter((file) => /\.c?js$/.test(file.path));
  if (built.length === 0) return `${shown}: dist/ is missing (no built .js file) — ${rebuild}`;
  const buildTime = Math.min(...built.map((file) => file.mtimeMs));
  const changed = sourceDirectories(directory)
    .flatMap((source) => filesUnder(join(directory, source)))
    .filter((file) => file.mtimeMs > buildTime)
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  const [newest] = changed;
  if (newest) {
    const more = changed.length > 1 ? ` and ${changed.length - 1} more` : "";
    return `${shown}: dist/ is older than its sources (${relative(directory, newest.path)}${more} changed after dist/ was built) — ${rebuild}`;
  }
  return undefined;
}

/** Throws, in one line, when the package's dist/ is missing or older than its src/ (see `staleBuildReason`). */
export function requireFreshBuild(packageDirectory: string): void {
  const reason = staleBuildReason(packageDirectory);
  if (reason === undefined) return;
  const error = new Error(reason);
  // The line is the whole story: a stack trace into this check would only bury it.
  error.stack = reason;
  throw error;
}

/**
 * The vitest `globalSetup` entry: `globalSetup: ["../testkit/src/fresh-build.ts"]` in a package's vitest.config.ts
 * checks that package (the project's root) before any test file is loaded. A stale build prints its one line and
 * ends the run with status 1: an error thrown from a global setup would come after vitest's own "No test files
 * found" and a banner, which read as a different problem.
 */
export default function setup(project: { config: { root: string } }): void {
  const reason = staleBuildReason(project.config.root);
  if (reason === undefined) return;
  process.stderr.write(`${reason}\n`);
  process.exit(1);
}
