// A real file in the repository, not a generated string: it stays lintable and runnable with python directly.
// The build inlines its text, so no file has to sit beside the code at run time.
import bootstrapSource from "../bootstrap/__main__.py?raw";
import packageJson from "../package.json";

/** The bootstrap `__main__.py`, with a shebang so the unpack layout's `pyenv/__main__.py` is itself executable. */
export function bootstrapMain(pythonCommand: string): string {
  return `#!/usr/bin/env ${pythonCommand}\n${bootstrapSource}`;
}

/** This package's version, recorded in PEX-INFO's `build_properties`. */
export const toolVersion = (): string => packageJson.version;

/** `python3.11` for `3.11.7`: the shebang names the minor version the packed C extensions were built for. */
export function pythonCommand(version: string): string {
  const [major, minor] = version.split(".");
  return `python${major}.${minor}`;
}

/**
 * The prefix of a ZIP64 zipapp for Pythons before 3.13, whose zipimport cannot read ZIP64: a `/bin/sh` script
 * that finds the interpreter and starts the bootstrap through `zipfile`, which can. The shell stops at `exit`
 * before reaching the zip's bytes; zip offsets are absolute, so the prefix does not disturb readers.
 */
export function shellPreamble(command: string): string {
  const loader = [
    "import sys, zipfile",
    "archive = sys.argv[1]; del sys.argv[0]",
    'with zipfile.ZipFile(archive) as z: source = z.read("__main__.py")',
    'main = {"__name__": "__main__", "__file__": archive + "/__main__.py", "__builtins__": __builtins__}',
    'exec(compile(source, main["__file__"], "exec"), main)',
  ].join("\n");
  return [
    "#!/bin/sh",
    "# cluster-pack zipapp (ZIP64): started through zipfile, as zipimport reads ZIP64 only from Python 3.13",
    `for python in ${command} python3; do`,
    `  if command -v "$python" >/dev/null 2>&1; then exec "$python" -c '${loader}' "$0" "$@"; fi`,
    "done",
    `echo "$0: ${command} not found on PATH" >&2`,
    "exit 127",
    "",
  ].join("\n");
}
