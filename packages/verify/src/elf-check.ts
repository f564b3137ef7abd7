import { existsSync } from "node:fs";
import { lstat, open, readdir, readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { sanitizeLine } from "@cluster-pack/errors";
import { readElfDynamic } from "@cluster-pack/packers";
import pMap from "p-map";
import type { MachineLibraries } from "./machine-libraries.js";

export interface ElfFile {
  /** Relative to the tree's root, `/`-separated. */
  path: string;
  missingLibraries: string[];
}

/** Shared objects by name (`_ext.cpython-311-x86_64-linux-gnu.so`, `libfoo.so.1.2`); executables by their mode. */
const isLibraryName = (name: string) => /\.so(\.\d+)*$/.test(name);

interface TreeFiles {
  files: { path: string; executable: boolean }[];
  /** Every file and link name in the tree: a library found anywhere inside it by name counts (auditwheel's `.libs/`). */
  names: Set<string>;
}

async function walk(root: string): Promise<TreeFiles> {
  const tree: TreeFiles = { files: [], names: new Set() };
  const visit = async (directory: string) => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      tree.names.add(entry.name);
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile())
        tree.files.push({ path, executable: ((await lstat(path)).mode & 0o111) !== 0 });
    }
  };
  await visit(root);
  return tree;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

async function startsWithElfMagic(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(ELF_MAGIC);
  } finally {
    await handle.close();
  }
}

/**
 * Every ELF file under `root` with the DT_NEEDED libraries that resolve nowhere. A library resolves when it lies
 * beside the file, in a directory of its RUNPATH/RPATH (`$ORIGIN` expanded), anywhere in the tree by name, or on
 * this machine. Inside the tree is more lenient than ld.so, which does not look beside a file or by name: the
 * question is whether the archive ships the library at all, and misplacing one is rarer than forgetting it.
 */
export async function checkElfFiles(root: string, machine: MachineLibraries): Promise<ElfFile[]> {
  const tree = await walk(root);
  const candidates = tree.files.filter((file) => file.executable || isLibraryName(basename(file.path)));
  const checked = await pMap(
    candidates,
    async ({ path }): Promise<ElfFile | undefined> => {
      if (!(await startsWithElfMagic(path))) return undefined;
      const dynamic = readElfDynamic(await readFile(path));
      if (!dynamic) return { path: relative(root, path).split(sep).join("/"), missingLibraries: [] };
      const origin = dirname(path);
      const searchDirectories = dynamic.searchPaths
        .flatMap((searchPath) => searchPath.value.split(":"))
        .filter((directory) => directory !== "")
        .map((directory) => directory.replace(/\$(ORIGIN\b|\{ORIGIN\})/g, origin))
        .map((directory) => (isAbsolute(directory) ? directory : resolve(origin, directory)));
      const resolves = (needed: string) =>
        needed.includes("/")
          ? existsSync(isAbsolute(needed) ? needed : resolve(origin, needed))
          : existsSync(join(origin, needed)) ||
            searchDirectories.some((directory) => existsSync(join(directory, needed))) ||
            tree.names.has(needed) ||
            machine.has(needed);
      return {
        path: relative(root, path).split(sep).join("/"),
        missingLibraries: dynamic.needed.filter((needed) => !resolves(needed)).map(sanitizeLine),
      };
    },
    { concurrency: 4 },
  );
  return checked.filter((file): file is ElfFile => file !== undefined);
}
