import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/**
 * Where this machine's dynamic loader finds a library by name: its cache (`ldconfig -p`), `LD_LIBRARY_PATH`, and
 * the default directories (with Debian's multiarch ones), as ld.so(8) searches when no RUNPATH says otherwise.
 */
export interface MachineLibraries {
  has(name: string): boolean;
}

const DEFAULT_DIRECTORIES = ["/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"];

/** Debian and Ubuntu keep most libraries in `/usr/lib/<triplet>` (`x86_64-linux-gnu`). */
function multiarchDirectories(): string[] {
  const found: string[] = [];
  for (const base of ["/lib", "/usr/lib"]) {
    try {
      for (const entry of readdirSync(base, { withFileTypes: true }))
        if (entry.isDirectory() && /-linux-gnu|-linux-musl/.test(entry.name))
          found.push(join(base, entry.name));
    } catch {
      // A missing base directory holds nothing.
    }
  }
  return found;
}

async function loaderCache(): Promise<Set<string>> {
  for (const ldconfig of ["/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"]) {
    try {
      const { stdout } = await execFileAsync(ldconfig, ["-p"], { maxBuffer: 32 << 20 });
      // `\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1`
      return new Set(
        stdout
          .split("\n")
          .map((line) => /^\s+(\S+)\s+\(/.exec(line)?.[1])
          .filter((name): name is string => name !== undefined),
      );
    } catch {
      // Not there (musl, a minimal image): try the next one, else rely on the directories.
    }
  }
  return new Set();
}

export async function machineLibraries(env: NodeJS.ProcessEnv = process.env): Promise<MachineLibraries> {
  const cached = await loaderCache();
  const directories = [
    ...(env.LD_LIBRARY_PATH ?? "").split(":").filter((directory) => directory !== ""),
    ...DEFAULT_DIRECTORIES,
    ...multiarchDirectories(),
  ];
  const answers = new Map<string, boolean>();
  return {
    has(name) {
      let answer = answers.get(name);
      if (answer === undefined) {
        answer = cached.has(name) || directories.some((directory) => existsSync(join(directory, name)));
        answers.set(name, answer);
      }
      return answer;
    },
  };
}
