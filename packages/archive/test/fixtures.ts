import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";

/** A fresh temporary directory, removed by the returned `cleanup`. */
export function temporaryDirectory(prefix: string): { directory: string; cleanup: () => void } {
  const directory = mkdtempSync(join(tmpdir(), `cp-archive-${prefix}-`));
  return { directory, cleanup: () => rmSync(directory, { recursive: true, force: true }) };
}

/** A small package tree: an importable module, an executable script, a symlink, an empty file, a non-ASCII name. */
export function buildTree(root: string): void {
  const files: Record<string, { content: string; mode: number }> = {
    "pkg/__init__.py": { content: "VALUE = 42\n", mode: 0o644 },
    "pkg/core.py": {
      content: `def answer():\n    return "forty-two"\n${"# padding\n".repeat(200)}`,
      mode: 0o644,
    },
    "bin/run.sh": { content: "#!/bin/sh\necho run\n", mode: 0o755 },
    "data/empty.txt": { content: "", mode: 0o600 },
    "data/café.txt": { content: "crème\n", mode: 0o644 },
  };
  for (const [name, { content, mode }] of Object.entries(files)) {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    chmodSync(path, mode);
  }
  symlinkSync("../pkg/core.py", join(root, "bin/core-link.py"));
}

export const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** Runs Python code with arguments; returns stdout, failing the test on a non-zero exit. */
export function python(code: string, ...args: string[]): string {
  return execFileSync("python3", ["-c", code, ...args], { encoding: "utf8" });
}

/**
 * Python source defining `link(archive, name, target)`, for the builders of crafted archives: writes into a
 * `zipfile.ZipFile` a member that Unix tools take for a symbolic link to `target` (made on Unix, mode 0o120777,
 * the target as content). The builder imports `zipfile` before it.
 */
export const zipLinkPython = `
def link(archive, name, target):
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    archive.writestr(info, target)
`;

export const hasCommand = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;

/** A Writable that discards everything, counting bytes. */
export function discard(): Writable & { bytes: number } {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      sink.bytes += chunk.length;
      callback();
    },
  }) as Writable & { bytes: number };
  sink.bytes = 0;
  return sink;
}
