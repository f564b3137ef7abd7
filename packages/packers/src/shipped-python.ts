import { execFile } from "node:child_process";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, posix, relative } from "node:path";
import { promisify } from "node:util";
import { type ArchiveEntry, collectTree } from "@cluster-pack/archive";
import { firstLine, sanitizeLine } from "@cluster-pack/errors";
import { isElf, readElfDynamic, withSearchPath } from "./elf-dynamic.js";
import { isBytecode } from "./env-archive.js";
import { PackerError } from "./errors.js";

const execFileAsync = promisify(execFile);

/** The base interpreter an archive ships (`withPython`): what a node must be able to run. */
export interface ShippedPython {
  /** `"3.11.7"`. */
  version: string;
  implementation: string;
  /** `sysconfig.get_platform()`: `linux-x86_64`, `linux-aarch64`. */
  platform: string;
  /** The glibc the interpreter was built against (nodes need at least this one); absent for musl. */
  glibc?: string;
  /** Shared libraries shipped beside it from its installation (`libpython3.11.so.1.0`). */
  libraries: string[];
}

interface BaseFacts {
  executable: string;
  version: string;
  implementation: string;
  platform: string;
  glibc: string | null;
  basePrefix: string;
  stdlib: string;
  platstdlib: string;
  /** Where this interpreter's `site` looks for packages under a prefix that is not a venv, relative to it. */
  siteDirectories: string[];
}

const SENTINEL = "/cluster-pack-prefix";

// Run by the base interpreter itself, as a plain installation (not through the venv): its own `site` rules say
// where packages go once the archive is no longer a venv (Debian's patched `site` looks in dist-packages).
const probeScript = `
import json, os, site, sys, sysconfig
glibc = None
try:
    found = os.confstr("CS_GNU_LIBC_VERSION") or ""
    glibc = found.split()[1] if found.startswith("glibc ") else None
except (AttributeError, OSError, ValueError):
    pass
print(json.dumps({
    "executable": os.path.realpath(sys.executable),
    "version": "%d.%d.%d" % sys.version_info[:3],
    "implementation": sys.implementation.name,
    "platform": sysconfig.get_platform(),
    "glibc": glibc,
    "basePrefix": sys.base_prefix,
    "stdlib": sysconfig.get_path("stdlib"),
    "platstdlib": sysconfig.get_path("platstdlib"),
    "siteDirectories": [os.path.relpath(path, ${JSON.stringify(SENTINEL)}) for path in site.getsitepackages([${JSON.stringify(SENTINEL)}])],
}))
`;

/** The real interpreter a venv was made from: `home` of its `pyvenv.cfg`, as Python's own startup finds it. */
function baseExecutableOf(venvPrefix: string, version: string): string {
  const config = join(venvPrefix, "pyvenv.cfg");
  let home: string | undefined;
  try {
    home = /^\s*home\s*=\s*(.+?)\s*$/m.exec(readFileSync(config, "utf8"))?.[1];
  } catch {
    // Reported below.
  }
  if (!home)
    throw new PackerError(
      "INVALID_ARGUMENT",
      "no pyvenv.cfg with a `home` line: not a venv made by python -m venv",
      {
        location: venvPrefix,
      },
    );
  const [major, minor] = version.split(".");
  for (const name of [`python${major}.${minor}`, `python${major}`, "python"]) {
    const candidate = join(home, name);
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  throw new PackerError(
    "INVALID_ARGUMENT",
    `the venv's base interpreter is gone: no python${major}.${minor} in ${sanitizeLine(home)} (pyvenv.cfg home)`,
    { location: sanitizeLine(config) },
  );
}

/** As long as python-env gives the environment's own interpreter: a cold start on a slow file system. */
const BASE_PROBE_TIMEOUT_MS = 60_000;

async function probeBase(executable: string): Promise<BaseFacts> {
  try {
    const { stdout } = await execFileAsync(executable, ["-I", "-c", probeScript], {
      timeout: BASE_PROBE_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    return JSON.parse(stdout) as BaseFacts;
  } catch (error) {
    const { killed, stderr } = error as { killed?: boolean; stderr?: string };
    const detail = killed
      ? `did not answer within ${BASE_PROBE_TIMEOUT_MS / 1000} s while probing the base interpreter: check that it starts (run it with -c pass)`
      : `cannot probe the base interpreter: ${sanitizeLine(firstLine(stderr || error))}`;
    throw new PackerError("INVALID_ARGUMENT", detail, { location: sanitizeLine(executable), cause: error });
  }
}

/** Test, IDLE and Tk demo suites, the static library and build files: not needed to run anything. */
const leftOutOfStdlib = (name: string, kind: "file" | "directory" | "symlink") =>
  isBytecode(name, kind) ||
  (kind === "directory" &&
    (/^(site-packages|dist-packages|config-[^/]*)$/.test(name) ||
      /(^|\/)(test|tests|idle_test|turtledemo)$/.test(name)));

/** The stdlib under its archive name; links leaving it (Debian's sitecustomize.py → /etc) become copies. */
function stdlibEntries(directory: string, archiveName: string): ArchiveEntry[] {
  const root = realpathSync(directory);
  const entries: ArchiveEntry[] = [];
  for (const entry of collectTree(directory, {
    prefix: archiveName,
    filter: (name, kind) => !leftOutOfStdlib(name, kind),
  })) {
    if (entry.kind !== "symlink") {
      entries.push(entry);
      continue;
    }
    const location = join(directory, entry.name.slice(archiveName.length + 1));
    const target = isAbsolute(entry.target) ? entry.target : join(dirname(location), entry.target);
    let real: string;
    try {
      real = realpathSync(target);
    } catch {
      continue; // Dangling here: it would dangle on the node too.
    }
    if (real.startsWith(`${root}/`)) entries.push(entry);
    else if (statSync(real).isFile()) entries.push({ kind: "file", name: entry.name, path: real });
  }
  return entries;
}

/** `$ORIGIN`-relative path from an archive directory to `lib/`, where shipped libraries go. */
const originTo = (fromDirectory: string) => {
  const up = posix.relative(fromDirectory, "lib");
  return up ? `$ORIGIN/${up}` : "$ORIGIN";
};

/**
 * The base interpreter of a venv as archive entries, so the archive runs where no Python (or another one) is
 * installed: its binary as `bin/python3.X` (`python`, `python3` link to it), its standard library beside the venv's
 * site-packages, and the shared libraries of its own installation that it loads (`libpython3.X.so.1.0` for
 * `--enable-shared` builds such as pyenv's). Those are found through the binary's RUNPATH, rewritten in place to
 * `$ORIGIN/../lib`: no wrapper script and no LD_LIBRARY_PATH leaking into child processes. The archive is then a
 * plain installation, not a venv (`pyvenv.cfg` goes): Python finds its prefix from the binary's location.
 */
export async function shippedPython(
  venvPrefix: string,
  version: string,
  venvSitePackages: string,
): Promise<{ entries: ArchiveEntry[]; python: ShippedPython }> {
  const executable = baseExecutableOf(venvPrefix, version);
  const base = await probeBase(executable);
  const [major, minor] = base.version.split(".");
  const binaryName = `bin/python${major}.${minor}`;
  const entries: ArchiveEntry[] = [
    { kind: "symlink", name: "bin/python", target: basename(binaryName) },
    { kind: "symlink", name: `bin/python${major}`, target: basename(binaryName) },
  ];

  const stdlibNames = new Set<string>();
  for (const directory of new Set([base.stdlib, base.platstdlib])) {
    const name = relative(base.basePrefix, directory);
    if (name.startsWith("..") || isAbsolute(name))
      throw new PackerError(
        "UNRELOCATABLE",
        `the standard library ${directory} is outside ${base.basePrefix}`,
        {
          location: executable,
        },
      );
    for (const entry of stdlibEntries(directory, name))
      if (!stdlibNames.has(entry.name)) {
        stdlibNames.add(entry.name);
        entries.push(entry);
      }
  }

  // ELF objects of the installation that may load its own libraries: the binary, lib-dynload, then those libraries.
  const installation = realpathSync(base.basePrefix);
  const isInside = (path: string) => path === installation || path.startsWith(`${installation}/`);
  const libraries = new Map<string, string>();
  const objects: { name: string; path: string }[] = [{ name: binaryName, path: executable }];
  for (const entry of entries)
    if (entry.kind === "file" && /\/lib-dynload\/[^/]+\.so$/.test(entry.name))
      objects.push({ name: entry.name, path: entry.path });
  const patched = new Map<string, Buffer>();
  for (let index = 0; index < objects.length; index++) {
    const object = objects[index] as { name: string; path: string };
    const bytes = readFileSync(object.path);
    if (object.name === binaryName && !isElf(bytes))
      throw new PackerError(
        "UNRELOCATABLE",
        "only Linux (ELF) interpreters can be shipped inside the archive",
        {
          location: executable,
        },
      );
    const dynamic = readElfDynamic(bytes);
    if (!dynamic) continue;
    // Search directories inside the installation hold its own libraries, which are shipped; others (a system
    // OpenSSL) stay as they are and must exist on the node, like libc.
    const directories = dynamic.searchPaths
      .flatMap((path) => path.value.split(":"))
      .map((directory) => directory.replace(/^\$(ORIGIN|\{ORIGIN\})/, dirname(object.path)));
    const ownDirectories = directories.filter(
      (directory) => existsSync(directory) && isInside(realpathSync(directory)),
    );
    const own = dynamic.needed.flatMap((library) => {
      const directory = ownDirectories.find((candidate) => existsSync(join(candidate, library)));
      return directory ? [{ library, path: realpathSync(join(directory, library)) }] : [];
    });
    if (object.name === binaryName) {
      const missing = dynamic.needed.filter(
        (library) => library.startsWith("libpython") && !own.some((found) => found.library === library),
      );
      if (missing.length > 0)
        throw new PackerError(
          "UNRELOCATABLE",
          `it loads ${missing.join(", ")} from the system's library path, not through a RUNPATH that could point at a shipped copy; use a Python built with an rpath (pyenv, python.org, python-build-standalone, conda)`,
          { location: executable },
        );
    }
    if (own.length === 0) continue;
    const searchPath = [
      originTo(posix.dirname(object.name)),
      ...directories.filter((directory) => !ownDirectories.includes(directory)),
    ].join(":");
    const rewritten = withSearchPath(bytes, searchPath);
    if (!rewritten)
      throw new PackerError(
        "UNRELOCATABLE",
        `its RUNPATH is too short to be rewritten to ${searchPath} in place, so it cannot find the shipped ${own.map((found) => found.library).join(", ")}`,
        { location: object.path },
      );
    patched.set(object.name, rewritten);
    for (const { library, path } of own)
      if (!libraries.has(library)) {
        libraries.set(library, path);
        objects.push({ name: `lib/${library}`, path });
      }
  }
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  for (const object of objects) {
    const data = patched.get(object.name);
    const mode = statSync(object.path).mode & 0o777;
    if (data) byName.set(object.name, { kind: "buffer", name: object.name, data, mode });
    else if (!byName.has(object.name))
      byName.set(object.name, { kind: "file", name: object.name, path: object.path });
  }

  // A site that does not look in <prefix>/lib/pythonX.Y/site-packages (Debian's) gets a link from where it looks.
  const siteName = relative(venvPrefix, venvSitePackages);
  const [firstSite] = base.siteDirectories;
  if (firstSite && !base.siteDirectories.includes(siteName))
    byName.set(firstSite, {
      kind: "symlink",
      name: firstSite,
      target: posix.relative(posix.dirname(firstSite), siteName),
    });

  return {
    entries: [...byName.values()],
    python: {
      version: base.version,
      implementation: base.implementation,
      platform: base.platform,
      ...(base.glibc && { glibc: base.glibc }),
      libraries: [...libraries.keys()].sort(),
    },
  };
}
