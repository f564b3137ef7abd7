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
