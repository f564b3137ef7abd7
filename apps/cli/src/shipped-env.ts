// Where the environment a `config` command describes is: uploaded now (`--upload`), or already in a store, with
// its editable zips found beside it as `upload` put them there.

import { parseEditablePackagesIndex } from "@cluster-pack/editable";
import {
  EDITABLE_PACKAGES_INDEX,
  type EditableZip,
  getPyenvUsageFromArchive,
  isEnvUsageError,
} from "@cluster-pack/env-usage";
import { isStorageError } from "@cluster-pack/fs";
import { detectInterpreter } from "@cluster-pack/python-env";
import {
  type ArchiveFormat,
  archiveStem,
  defaultPackagePathFor,
  editableDirectoryOf,
  type Packer,
  type ProgressListener,
  resolveStorage,
  uploadEnv,
} from "cluster-pack";
import { UsageError } from "./usage-error.js";

export interface ShippedEnv {
  packagePath: string;
  editable: EditableZip[];
  editableIndex?: string;
  /** Whether `--upload` sent the archive (false: it was current). Undefined without `--upload`. */
  uploaded?: boolean;
}

export interface LocateOptions {
  packagePath?: string;
  packer?: Packer;
  format?: ArchiveFormat;
  python?: string;
  plugins: string[];
}

/**
 * `--package-path`, else the path `upload` would choose for the current environment. The archive must exist; the
 * editable zips listed in the `editable_packages_index` beside it come along.
 */
export async function locateShippedEnv(options: LocateOptions): Promise<ShippedEnv> {
  const packagePath = options.packagePath ?? (await defaultPathOfCurrentEnv(options));
  checkArchiveName(packagePath);
  const { fs, path } = await resolveStorage(packagePath, { plugins: options.plugins });
  try {
    try {
      await fs.stat(path);
    } catch (error) {
      if (isStorageError(error) && error.code === "NOT_FOUND")
        throw new Error(
          `${fs.toUri(path)}: no archive there; upload it first (cluster-pack upload), or add --upload`,
          { cause: error },
        );
      throw error;
    }
    // Where `upload` put the editable zips: the façade's own rule, so that both always agree.
    const slash = path.lastIndexOf("/");
    const editableDirectory = editableDirectoryOf(path.slice(0, slash), archiveStem(path.slice(slash + 1)));
    const indexPath = `${editableDirectory}/${EDITABLE_PACKAGES_INDEX}`;
    let index: string;
    try {
      index = await readText(await fs.open(indexPath));
    } catch (error) {
      if (isStorageError(error) && error.code === "NOT_FOUND")
        return { packagePath: fs.toUri(path), editable: [] };
      throw error;
    }
    return {
      packagePath: fs.toUri(path),
      editable: parseEditablePackagesIndex(index).map((packageName) => ({
        name: packageName,
        uri: fs.toUri(`${editableDirectory}/${packageName}.zip`),
      })),
      editableIndex: fs.toUri(indexPath),
    };
  } finally {
    await fs.close?.();
  }
}

/** Uploads (or finds current) the environment, as `cluster-pack upload` does. */
export async function uploadShippedEnv(
  options: Parameters<typeof uploadEnv>[0] & { onProgress: ProgressListener },
): Promise<ShippedEnv> {
  const result = await uploadEnv(options);
  return {
    packagePath: result.packagePath,
    editable: result.editable.map(({ name, uri }) => ({ name, uri })),
    ...(result.editableIndex && { editableIndex: result.editableIndex }),
    uploaded: result.uploaded,
  };
}

/** The path `upload` chooses for the environment of `--python` (the façade's own rule, so both always agree). */
async function defaultPathOfCurrentEnv(options: LocateOptions): Promise<string> {
  const interpreter = await detectInterpreter(options.python ? { python: options.python } : {});
  return defaultPackagePathFor(interpreter, {
    ...(options.packer && { packer: options.packer }),
    ...(options.format && { format: options.format }),
  });
}

function checkArchiveName(packagePath: string) {
  try {
    getPyenvUsageFromArchive(packagePath);
  } catch (error) {
    if (isEnvUsageError(error))
      throw new UsageError(
        error.message,
        "--package-path must name a .pex, .pex.zip, .tar.gz, .tgz or .zip archive",
      );
    throw error;
  }
}

async function readText(stream: AsyncIterable<Buffer | string>): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  return text;
}
