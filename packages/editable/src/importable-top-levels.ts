import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import type { ImportableTopLevel } from "./editable-install.js";
import type { FinderMapping } from "./finder-mapping.js";

const identifier = /^[\p{ID_Start}_][\p{ID_Continue}]*$/u;
/** CPython's extension suffixes (`importlib.machinery.EXTENSION_SUFFIXES`): `.cpython-311-x86_64-linux-gnu.so`, `.abi3.so`, `.pyd`. */
const extensionSuffix = /^(\.[\w-]+)?\.(so|pyd)$/;

/**
 * Names a project directory holds that are not code to ship, when no metadata says which names are
 * (setuptools' flat-layout discovery excludes the same kind of names).
 */
const notShipped = new Set([
  "bench",
  "benchmarks",
  "build",
  "conftest",
  "dist",
  "doc",
  "docs",
  "env",
  "example",
  "examples",
  "noxfile",
  "node_modules",
  "scripts",
  "setup",
  "site-packages",
  "test",
  "tests",
  "tools",
  "venv",
]);

async function kindOf(path: string): Promise<"directory" | "file" | undefined> {
  try {
    const stats = await stat(path);
    return stats.isDirectory() ? "directory" : stats.isFile() ? "file" : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the import name `name` lives when its source path is `base` without suffix (the way setuptools'
 * finder `MAPPING` gives it): a package or namespace directory, `base.py`, or a compiled extension.
 */
export async function locateTopLevel(name: string, base: string): Promise<ImportableTopLevel | undefined> {
  if ((await kindOf(base)) === "directory") {
    const isPackage = (await kindOf(join(base, "__init__.py"))) === "file";
    return { name, kind: isPackage ? "package" : "namespace", path: base };
  }
  if ((await kindOf(`${base}.py`)) === "file") return { name, kind: "module", path: `${base}.py` };
  const stem = basename(base);
  const siblings = await readdir(dirname(base)).catch(() => [] as string[]);
  const extension = siblings
    .filter((file) => file.startsWith(`${stem}.`) && extensionSuffix.test(file.slice(stem.length)))
    .sort()[0];
  return extension ? { name, kind: "module", path: join(dirname(base), extension) } : undefined;
}

/**
 * The top-level names of a finder's `MAPPING`. A dotted key (`nsx.inner` with `nsx` in `NAMESPACES`) stands
 * for its first component, a namespace package whose directory is the mapped path minus the dotted tail.
 * Returns the names found, and the names whose source is missing or cannot be reduced to one directory.
 */
export async function topLevelsOfFinder(finder: FinderMapping): Promise<{
  topLevels: ImportableTopLevel[];
  missing: { name: string; path: string }[];
  unsupported: { name: string; path: string }[];
}> {
  const topLevels = new Map<string, ImportableTopLevel>();
  const missing: { name: string; path: string }[] = [];
  const unsupported: { name: string; path: string }[] = [];
  for (const [key, path] of [...finder.mapping].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [name = key, ...rest] = key.split(".");
    if (topLevels.has(name)) continue;
    const tail = rest.length ? sep + rest.join(sep) : "";
    if (!path.endsWith(tail)) {
      unsupported.push({ name, path });
      continue;
    }
    const located = await locateTopLevel(name, path.slice(0, path.length - tail.length));
    if (located) topLevels.set(name, located);
    else missing.push({ name, path });
  }
  return { topLevels: sortByName([...topLevels.values()]), missing, unsupported };
}

/**
 * The top-levels importable from a `sys.path` entry. With the names the metadata declares (`top_level.txt`)
 * only those are looked up; without, the directory is scanned: packages, `*.py` modules and directories of
 * Python code without `__init__.py` (PEP 420 namespaces), minus tests, docs, `setup.py` and the like.
 * Declared names that are not there are left out: the caller decides whether another entry has them.
 */
export async function topLevelsInPathEntry(
  entry: string,
  declaredNames?: readonly string[],
): Promise<ImportableTopLevel[]> {
  if (declaredNames) {
    const topLevels: ImportableTopLevel[] = [];
    for (const name of declaredNames) {
      const located = await locateTopLevel(name, join(entry, name));
      if (located) topLevels.push(located);
    }
    return sortByName(topLevels);
  }
  const children = await readdir(entry, { withFileTypes: true }).catch(() => [] as Dirent[]);
  const topLevels: ImportableTopLevel[] = [];
  for (const child of children) {
    const stem = child.name.split(".")[0] ?? "";
    if (!identifier.test(stem) || notShipped.has(stem) || stem === "__pycache__") continue;
    const path = join(entry, child.name);
    const kind = await kindOf(path);
    if (kind === "directory" && child.name === stem) {
      const located = await locateTopLevel(stem, path);
      if (located && (located.kind === "package" || (await holdsPython(path)))) topLevels.push(located);
    } else if (
      kind === "file" &&
      (child.name === `${stem}.py` || extensionSuffix.test(child.name.slice(stem.length)))
    ) {
      topLevels.push({ name: stem, kind: "module", path });
    }
  }
  return sortByName(topLevels);
}

/** Whether a directory without `__init__.py` holds Python code at some depth: what makes it a namespace. */
async function holdsPython(directory: string, depth = 0): Promise<boolean> {
  if (depth > 8) return false;
  const children = await readdir(directory, { withFileTypes: true }).catch(() => [] as Dirent[]);
  if (children.some((child) => child.isFile() && child.name.endsWith(".py"))) return true;
  for (const child of children) {
    if (
      child.isDirectory() &&
      identifier.test(child.name) &&
      (await holdsPython(join(directory, child.name), depth + 1))
    )
      return true;
  }
  return false;
}

export function sortByName<T extends { name: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
