import { spawn } from "node:child_process";
import { lstatSync } from "node:fs";
import { homedir } from "node:os";
import { join, posix } from "node:path";
import type { ArchiveEntry, FileEntry } from "@cluster-pack/archive";
import compileSources from "../bytecode/compile_sources.py?raw";
import { PackerError } from "./errors.js";

/**
 * Where compiled bytecode is kept between packs, by interpreter cache tag and source sha256:
 * `$XDG_CACHE_HOME/cluster-pack/bytecode`, else `~/.cache/cluster-pack/bytecode`. It is a cache, not temporary
 * space: a second pack of the same sources compiles nothing, and removing it only costs time.
 */
export function bytecodeCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cache, "cluster-pack", "bytecode");
}

/** Runs the compile script with `python`, the sources as JSON on stdin; resolves with its output lines. */
function runCompiler(python: string, sources: readonly string[], cacheDirectory: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    // -I: the environment's own modules (a `py_compile.py` in a project) must not replace the standard library's.
    const child = spawn(python, ["-I", "-c", compileSources, cacheDirectory], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (error) =>
      reject(
        new PackerError("INVALID_ARGUMENT", `cannot run ${python} to compile bytecode`, {
          location: python,
          cause: error,
        }),
      ),
    );
    child.on("close", (code) => {
      if (code === 0) resolve(stdout.trimEnd().split("\n"));
      else {
        const last = stderr.trim().split("\n").at(-1) ?? `exit code ${code}`;
        reject(new PackerError("IO", `compiling bytecode failed: ${last}`, { location: cacheDirectory }));
      }
    });
    child.stdin.end(JSON.stringify(sources));
  });
}

/**
 * Bytecode entries for the `.py` files among `entries`, compiled by the environment's interpreter with PEP 552's
 * unchecked-hash invalidation: `pkg/mod.py` gains `pkg/__pycache__/mod.<cache tag>.pyc`, which Python loads without
 * looking at the extracted source's mtime (or hashing it). Only sources packed as they are on disk are compiled:
 * a source the packer rewrites (a conda file holding its placeholder, which conda-unpack replaces) is a buffer
 * entry and compiles where it is unpacked, as it must. Sources that do not compile are left without bytecode, as
 * `compileall` leaves them.
 */
export async function bytecodeEntries(
  python: string,
  entries: readonly ArchiveEntry[],
  cacheDirectory: string = bytecodeCacheDirectory(),
): Promise<FileEntry[]> {
  const sources = entries.filter(
    (entry): entry is FileEntry => entry.kind === "file" && entry.name.endsWith(".py"),
  );
  if (sources.length === 0) return [];
  const [tagLine = "", ...compiled] = await runCompiler(
    python,
    sources.map((source) => source.path),
    cacheDirectory,
  );
  const tag = JSON.parse(tagLine) as string;
  const bytecode: FileEntry[] = [];
  sources.forEach((source, index) => {
    const pyc = JSON.parse(compiled[index] ?? "null") as string | null;
    if (pyc === null) return;
    const directory = posix.dirname(source.name);
    const stem = posix.basename(source.name, ".py");
    const name = `${directory === "." ? "" : `${directory}/`}__pycache__/${stem}.${tag}.pyc`;
    bytecode.push({ kind: "file", name, path: pyc, size: lstatSync(pyc).size, mode: 0o644 });
  });
  return bytecode;
}
