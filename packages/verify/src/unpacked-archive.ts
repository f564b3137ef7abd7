import { lstat, open, readdir, readFile, readlink, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { extractArchive, isArchiveError } from "@cluster-pack/archive";
import { type ArchiveFormat, UNPACKED_ENV_NAME, UNPACKED_VENV_NAME } from "@cluster-pack/env-usage";
import { firstLine, sanitizeLine } from "@cluster-pack/errors";
import { findExecutable } from "@cluster-pack/python-env";
import { VerifyError } from "./errors.js";
import { isolatedEnv } from "./isolated-env.js";

/** An archive laid out in a work directory as a node would have it, and how to run its Python there. */
export interface UnpackedArchive {
  /** The Python command, up to where `-c <code>` goes. */
  interpreterCommand: string[];
  env: NodeJS.ProcessEnv;
  /** The unpacked tree whose ELF files are checked. */
  root: string;
  /** The site directories inside `root` whose distributions' modules are imported. */
  siteDirectories: string[];
  /** Commands a node runs once before the first use (conda-unpack). */
  setup: string[][];
}

export interface UnpackOptions {
  /** The Python the nodes run: for a zipapp, or a venv archive that links to its base interpreter. */
  python?: string | undefined;
  /** The archive as the user named it (a stored URI downloaded to a work file), sanitized: messages start with it. */
  location: string;
}

const unreadable = (location: string, format: ArchiveFormat, error: unknown) =>
  new VerifyError("INVALID_ARGUMENT", `not a readable ${format} archive: ${sanitizeLine(firstLine(error))}`, {
    location,
    cause: error,
  });

/** The nodes' bound on what a zipapp extracts (the bootstrap's `CLUSTER_PACK_MAX_EXTRACT_BYTES`), applied here too. */
const DEFAULT_MAX_EXTRACT_BYTES = 64 * 2 ** 30;

function maxExtractBytes(env: NodeJS.ProcessEnv): number {
  const value = Number(env.CLUSTER_PACK_MAX_EXTRACT_BYTES);
  return Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_MAX_EXTRACT_BYTES;
}

/**
 * Unpacks `archive` into `root` with @cluster-pack/archive's extraction: every entry that would land or point outside
 * refused before anything is written, sizes and CRCs checked, files created exclusively. Links leaving the archive
 * are kept as links (a venv archive's `bin/python` points at its base interpreter); nothing is written through one.
 */
async function unpackInto(
  archive: string,
  format: ArchiveFormat,
  root: string,
  location: string,
): Promise<void> {
  try {
    await extractArchive(archive, root, { linksLeaving: "keep", maxBytes: maxExtractBytes(process.env) });
  } catch (error) {
    if (isArchiveError(error, "UNSAFE"))
      throw new VerifyError(
        "UNSAFE_ARCHIVE",
        `${sanitizeLine(error.detail)}: the nodes would refuse or misplace it`,
        { location, cause: error },
      );
    if (isArchiveError(error, "IO"))
      throw new VerifyError("IO", `cannot unpack: ${sanitizeLine(error.detail)}`, {
        location,
        cause: error,
      });
    throw unreadable(location, format, error);
  }
}

/** `python3.11` from `#!/usr/bin/env python3.11` (or `#!/usr/bin/python3.11`); undefined without a shebang. */
async function shebangCommand(path: string): Promise<string | undefined> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(256);
    const { bytesRead } = await handle.read(head, 0, 256, 0);
    const line = head.toString("utf8", 0, bytesRead).split("\n")[0] ?? "";
    if (!line.startsWith("#!")) return undefined;
    const words = line.slice(2).trim().split(/\s+/);
    const program = basename(words[0] ?? "") === "env" ? words[1] : words[0];
    return program ? basename(program) : undefined;
  } finally {
    await handle.close();
  }
}

/** The Python `--python` names, found on this machine, or the error that says it is not. */
async function givenPython(python: string, location: string): Promise<string> {
  const found = await findExecutable(python);
  if (found) return found;
  throw new VerifyError(
    "NO_INTERPRETER",
    `Python "${sanitizeLine(python)}" is not on this machine: give the path of the Python the nodes run`,
    { location },
  );
}

/** The Python a zipapp runs with: the one asked for, else the one its shebang names, found on this machine. */
async function zipappPython(launcher: string, options: UnpackOptions): Promise<string> {
  if (options.python) return givenPython(options.python, options.location);
  const wanted = (await shebangCommand(launcher)) ?? "python3";
  const found = await findExecutable(wanted);
  if (found) return found;
  throw new VerifyError(
    "NO_INTERPRETER",
    `it runs with ${sanitizeLine(wanted)} (its shebang), which is not on this machine: give the Python the nodes run`,
    { location: options.location },
  );
}

// Flags for a zipapp's Python: -I ignores PYTHON* variables and the user site, -S keeps every site-packages of
// the host off sys.path (the bootstrap adds the archive's own with site.addsitedir); PEX_INHERIT_PATH=false makes
// the bootstrap drop any host entry left.
const ZIPAPP_FLAGS = ["-I", "-S"];
// A venv's own site-packages come from `site`, so no -S there; its pyvenv.cfg keeps the system's out.
const ENV_FLAGS = ["-I"];

/** How a zipapp or its unpack layout runs: `script` with a fresh PEX_ROOT, nothing of the host inherited. */
async function zipappRun(script: string, root: string, work: string, options: UnpackOptions) {
  return {
    interpreterCommand: [await zipappPython(script, options), ...ZIPAPP_FLAGS, script],
    env: isolatedEnv({ PEX_ROOT: join(work, "pex-root"), PEX_INHERIT_PATH: "false" }),
    root,
    siteDirectories: [join(root, ".deps")],
    setup: [],
  };
}

async function unpackZipapp(archive: string, work: string, options: UnpackOptions): Promise<UnpackedArchive> {
  // The environment zip, for its metadata and ELF files; the archive itself is what runs.
  const root = join(work, "pex");
  await unpackInto(archive, "pex", root, options.location);
  return zipappRun(archive, root, work, options);
}

async function unpackLayout(archive: string, work: string, options: UnpackOptions): Promise<UnpackedArchive> {
  const root = join(work, UNPACKED_ENV_NAME);
  await unpackInto(archive, "pex.zip", root, options.location);
  const main = join(root, "__main__.py");
  if (!(await lstat(main).catch(() => undefined))?.isFile())
    throw new VerifyError("INVALID_ARGUMENT", "not an unpack layout: no __main__.py at its root", {
      location: options.location,
    });
  return zipappRun(main, root, work, options);
}

/** `lib/pythonX.Y/site-packages` (and Debian's `dist-packages`) of an unpacked prefix. */
async function prefixSiteDirectories(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const lib of ["lib", "lib64"]) {
    const versions = await readdir(join(root, lib)).catch(() => [] as string[]);
    for (const version of versions.filter((name) => /^python\d/.test(name)).sort())
      for (const site of ["site-packages", "dist-packages"]) {
        const directory = join(root, lib, version, site);
        if ((await lstat(directory).catch(() => undefined))?.isDirectory()) found.push(directory);
      }
  }
  return found;
}

/**
 * The link in `bin/` that leaves the environment for its base interpreter (`python3 → /usr/bin/python3.11`),
 * following the in-environment links before it (`python → python3`); undefined when `bin/python` is the
 * environment's own (a conda archive, a venv packed with its Python).
 */
async function outsideInterpreterLink(root: string): Promise<{ link: string; target: string } | undefined> {
  let current = join(root, "bin", "python");
  for (let hops = 0; hops < 40; hops++) {
    const stats = await lstat(current).catch(() => undefined);
    if (!stats?.isSymbolicLink()) return undefined;
    const target = await readlink(current);
    const resolved = isAbsolute(target) ? target : resolve(dirname(current), target);
    if (!resolved.startsWith(`${root}/`)) return { link: current, target: resolved };
    current = resolved;
  }
  return undefined;
}

async function unpackPrefix(
  archive: string,
  format: "tar.gz" | "zip",
  work: string,
  options: UnpackOptions,
): Promise<UnpackedArchive> {
  const root = join(work, UNPACKED_VENV_NAME);
  await unpackInto(archive, format, root, options.location);
  const python = join(root, "bin", "python");
  if (!(await lstat(python).catch(() => undefined)))
    throw new VerifyError(
      "INVALID_ARGUMENT",
      "not a venv or conda archive: no bin/python at its root, which the nodes run as environment/bin/python",
      { location: options.location },
    );
  const outside = await outsideInterpreterLink(root);
  if (outside && options.python)
    await useBaseInterpreter(options.location, root, outside.link, options.python);
  else if (outside && !(await findExecutable(outside.target)))
    throw new VerifyError(
      "NO_INTERPRETER",
      `its bin/python links to ${sanitizeLine(outside.target)}, which is not on this machine: give the Python the nodes run`,
      { location: options.location },
    );
  const condaUnpack = join(root, "bin", "conda-unpack");
  const hasCondaUnpack = (await lstat(condaUnpack).catch(() => undefined))?.isFile() === true;
  return {
    interpreterCommand: [python, ...ENV_FLAGS],
    env: isolatedEnv(),
    root,
    siteDirectories: await prefixSiteDirectories(root),
    setup: hasCondaUnpack ? [[python, ...ENV_FLAGS, condaUnpack]] : [],
  };
}

/**
 * Points a venv's interpreter link at `python` (what the nodes run) and its `pyvenv.cfg` `home` at that Python's
 * directory, from which Python finds its standard library.
 */
async function useBaseInterpreter(location: string, root: string, link: string, python: string) {
  const found = await givenPython(python, location);
  // A venv's python is itself a link to its base: the base is what a venv archive's link must reach.
  const base = await realpath(found);
  await rm(link);
  await symlink(base, link);
  const config = join(root, "pyvenv.cfg");
  const text = await readFile(config, "utf8").catch(() => undefined);
  if (text !== undefined) await writeFile(config, text.replace(/^(\s*home\s*=).*$/m, `$1 ${dirname(base)}`));
}

/** Lays out `archive` in `work` as a node would and says how to run it. */
export function unpackArchive(
  archive: string,
  format: ArchiveFormat,
  work: string,
  options: UnpackOptions,
): Promise<UnpackedArchive> {
  switch (format) {
    case "pex":
      return unpackZipapp(archive, work, options);
    case "pex.zip":
      return unpackLayout(archive, work, options);
    default:
      return unpackPrefix(archive, format, work, options);
  }
}
