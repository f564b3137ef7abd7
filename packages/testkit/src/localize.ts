/**
 * Plays a YARN NodeManager's part for tests of emitted launch configurations: downloads a container's local
 * resources from storage and lays them out as its localizer does (Hadoop's `FSDownload`), so that a test can run
 * the emitted command from the container's working directory.
 */
import { spawn } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveFileSystem, type StorageOptions } from "@cluster-pack/fs";

export interface ContainerResource {
  /** A storage URI (`s3://…`, `hdfs://…`) or a local path. */
  source: string;
  /** The link name in the container's working directory: the `#alias` of `--archives x.zip#alias`. */
  name: string;
  /** `file` is linked as is; `archive` is unpacked into a directory (YARN's LocalResourceType). */
  type: "file" | "archive";
}

/** Resources by link name, as skein's `files` (and the emitters' `files` maps) list them. */
export type ContainerFiles = Record<string, Omit<ContainerResource, "name">>;

export interface LocalizeOptions {
  /** The container's working directory; created if missing. Default: a fresh temporary directory. */
  directory?: string;
  /** Passed to `resolveFileSystem` (`{ s3: { endpoint, … } }`). */
  storage?: StorageOptions;
}

export interface LocalizedContainer {
  /** The container's working directory: `<name>` of every resource is a link in it. */
  directory: string;
  /** Removes the working directory and the localizer's cache. */
  cleanup(): Promise<void>;
}

// FSDownload gives APPLICATION/PRIVATE resources r-x to files and rwx to directories: every localized file is
// executable (so `./env.pex` runs although storage keeps no exec bit) and none is writable.
const LOCALIZED_FILE_MODE = 0o500;
const LOCALIZED_DIRECTORY_MODE = 0o700;

interface UnpackCommand {
  command: string;
  args: string[];
  /** Exit codes after a complete extraction. */
  successCodes: number[];
}

/**
 * How YARN unpacks an archive: chosen by the name of the stored file (not the alias); a name it does not know is
 * kept as a plain file, which is what `FSDownload` does after logging "Cannot unpack".
 */
function unpackCommand(storedName: string, archive: string, into: string): UnpackCommand | undefined {
  const name = storedName.toLowerCase();
  // unzip accepts bytes before the zip (a zipapp's shebang): it warns and exits 1 after a complete extraction.
  if (name.endsWith(".zip") || name.endsWith(".jar"))
    return { command: "unzip", args: ["-q", "-o", archive, "-d", into], successCodes: [0, 1] };
  if (name.endsWith(".tar.gz") || name.endsWith(".tgz"))
    return { command: "tar", args: ["-xzf", archive, "-C", into], successCodes: [0] };
  if (name.endsWith(".tar")) return { command: "tar", args: ["-xf", archive, "-C", into], successCodes: [0] };
  return undefined;
}

function runTool({ command, args, successCodes }: UnpackCommand) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on("close", (code) => {
      if (code !== null && successCodes.includes(code)) resolve();
      else reject(new Error(`${command} ${args.join(" ")} failed (${code}): ${stderr.trim()}`));
    });
  });
}

async function applyLocalizedModes(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  if (info.isDirectory()) {
    await chmod(path, LOCALIZED_DIRECTORY_MODE);
    for (const entry of await readdir(path)) await applyLocalizedModes(join(path, entry));
  } else {
    await chmod(path, LOCALIZED_FILE_MODE);
  }
}

const storedNameOf = (source: string) =>
  (source.split(/[?#]/)[0] ?? source).replace(/\/+$/, "").split("/").at(-1) || "resource";

/**
 * Localizes resources into a container working directory as a NodeManager does: each one is downloaded (through
 * `@cluster-pack/fs`, so any stored URI works) into a cache directory of its own under its stored name, an archive
 * is unpacked there into a directory of that name (zip/jar, tar.gz/tgz, tar), modes are set as YARN sets them,
 * and `<directory>/<name>` becomes a symlink to the result. `files` is a list of resources or a `files` map.
 */
export async function localizeContainer(
  files: readonly ContainerResource[] | ContainerFiles,
  options: LocalizeOptions = {},
): Promise<LocalizedContainer> {
  const resources = Array.isArray(files)
    ? files
    : Object.entries(files).map(([name, { source, type }]) => ({ source, name, type }));
  const root = await mkdtemp(join(tmpdir(), "cp-container-"));
  const directory = options.directory ?? join(root, "container");
  const cleanup = async () => {
    await rm(directory, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  };
  try {
    await mkdir(directory, { recursive: true });
    const names = new Set<string>();
    for (const [index, resource] of resources.entries()) {
      if (!resource.name || resource.name.includes("/") || names.has(resource.name))
        throw new Error(`${resource.source}: link name "${resource.name}" is empty, has a slash or is taken`);
      names.add(resource.name);

      const cacheDirectory = join(root, "filecache", String(index));
      await mkdir(cacheDirectory, { recursive: true });
      const storedName = storedNameOf(resource.source);
      const downloaded = join(cacheDirectory, `${storedName}.download`);
      const { fs, path } = await resolveFileSystem(resource.source, options.storage);
      try {
        await fs.get(path, downloaded);
      } finally {
        await fs.close?.();
      }

      const localized = join(cacheDirectory, storedName);
      const unpack =
        resource.type === "archive" ? unpackCommand(storedName, downloaded, localized) : undefined;
      if (unpack) {
        await mkdir(localized);
        await runTool(unpack);
        await rm(downloaded);
      } else {
        await rename(downloaded, localized);
      }
      await applyLocalizedModes(localized);
      await symlink(localized, join(directory, resource.name));
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { directory, cleanup };
}
