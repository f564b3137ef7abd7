// Real files in the repository (relocation/), so they stay runnable and lintable as what they are; the build
// inlines their text, so no file has to sit beside the code at run time.
import activate from "../relocation/activate?raw";
import condaUnpack from "../relocation/conda-unpack.py?raw";

const relocationFiles = { activate, "conda-unpack.py": condaUnpack };

/** A file of this package's `relocation/` directory. */
export function relocationFile(name: keyof typeof relocationFiles): Buffer {
  return Buffer.from(relocationFiles[name], "utf8");
}

/**
 * The first lines of a script that runs the interpreter `name` found beside the script itself, wherever the
 * environment was unpacked: `/bin/sh` runs the `exec` line, while Python reads the same lines as one string
 * (distlib's form for long shebangs), so `python script` keeps working too. `realpath` follows a script reached
 * through a symlink back to the environment's `bin/`.
 */
export function relocatableShebang(name: string, options: string): string {
  return `#!/bin/sh\n'''exec' "$(dirname -- "$(realpath -- "$0")")/${name}"${options} "$0" "$@"\n' '''\n`;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A script whose shebang names an interpreter in `<prefix>/bin/` (what pip and conda write for console scripts),
 * with that shebang replaced by `relocatableShebang`; undefined for any other file. Both of pip's forms are read:
 * `#!<prefix>/bin/python` and, for long paths, `#!/bin/sh` + `'''exec' <prefix>/bin/python "$0" "$@"`.
 */
export function relocateScript(data: Buffer, prefixes: readonly string[]): Buffer | undefined {
  if (data[0] !== 0x23 || data[1] !== 0x21) return undefined;
  const head = data.subarray(0, Math.min(data.length, 4096)).toString("utf8");
  const bins = prefixes.map((prefix) => `${escapeRegExp(prefix.replace(/\/+$/, ""))}/bin/`).join("|");
  const direct = new RegExp(`^#![ \\t]*(?:${bins})([^/\\s]+)([^\\n]*)\\n`).exec(head);
  const viaShell = new RegExp(
    `^#!/bin/sh\\n'''exec' (["']?)(?:${bins})([^/"'\\s]+)\\1([^\\n]*?) "\\$0" "\\$@"\\n' '''\\n`,
  ).exec(head);
  const match = direct ?? viaShell;
  if (!match) return undefined;
  const [whole, name, options] = direct ? [direct[0], direct[1], direct[2]] : [match[0], match[2], match[3]];
  const rest = data.subarray(Buffer.byteLength(whole, "utf8"));
  return Buffer.concat([Buffer.from(relocatableShebang(name ?? "python", (options ?? "").trimEnd())), rest]);
}
