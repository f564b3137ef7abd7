import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PackerError } from "./errors.js";

/** How conda installed one path of a package (`paths_data` of the package's `conda-meta` record). */
export interface CondaPath {
  /** Relative to the prefix. */
  path: string;
  /** The build prefix conda replaced by the environment's path at install time; absent when the file has none. */
  placeholder?: string;
  fileMode?: "text" | "binary";
  /** sha256 of the file as conda left it: a different file was changed afterwards (by pip, most often). */
  sha256InPrefix?: string;
}

/** One installed conda package: `conda-meta/<name>-<version>-<build>.json`. */
export interface CondaRecord {
  /** `conda-meta/<…>.json`, relative to the prefix. */
  recordFile: string;
  name: string;
  version: string;
  build: string;
  /** Installed paths, relative to the prefix. */
  files: string[];
  /** Per-path install facts; absent in records of conda before 4.3, which did not write them. */
  paths?: CondaPath[];
  /** The record as shipped: the local package cache's paths blanked (conda-pack does the same). */
  shipped: Buffer;
}

interface RawPath {
  _path?: unknown;
  prefix_placeholder?: unknown;
  file_mode?: unknown;
  sha256_in_prefix?: unknown;
}

interface RawRecord {
  name?: unknown;
  version?: unknown;
  build?: unknown;
  files?: unknown;
  paths_data?: { paths?: RawPath[] };
  link?: { source?: unknown } | null;
  extracted_package_dir?: unknown;
  package_tarball_full_path?: unknown;
}

const asString = (value: unknown) => (typeof value === "string" ? value : undefined);

function pathOf(raw: RawPath): CondaPath | undefined {
  const path = asString(raw._path);
  if (!path) return undefined;
  const placeholder = asString(raw.prefix_placeholder);
  const fileMode = raw.file_mode === "text" || raw.file_mode === "binary" ? raw.file_mode : undefined;
  const sha256InPrefix = asString(raw.sha256_in_prefix);
  return {
    path,
    ...(placeholder && { placeholder, fileMode: fileMode ?? "text" }),
    ...(sha256InPrefix && { sha256InPrefix }),
  };
}

/** The package records of a conda prefix; refuses a directory without `conda-meta/` (not a conda environment). */
export async function readCondaRecords(prefix: string): Promise<CondaRecord[]> {
  const directory = join(prefix, "conda-meta");
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => name.endsWith(".json")).sort();
  } catch {
    throw new PackerError(
      "INVALID_ARGUMENT",
      "not a conda environment (no conda-meta/ directory): the conda packer ships environments made by conda, mamba or pixi",
      { location: prefix },
    );
  }
  return Promise.all(
    names.map(async (name) => {
      const recordFile = `conda-meta/${name}`;
      let raw: RawRecord;
      try {
        raw = JSON.parse(await readFile(join(directory, name), "utf8")) as RawRecord;
      } catch (error) {
        throw new PackerError("INVALID_ARGUMENT", `not a conda package record: ${(error as Error).message}`, {
          location: join(directory, name),
          cause: error,
        });
      }
      const paths = raw.paths_data?.paths?.map(pathOf).filter((path) => path !== undefined);
      const shipped: RawRecord = { ...raw };
      if ("extracted_package_dir" in raw) shipped.extracted_package_dir = "";
      if ("package_tarball_full_path" in raw) shipped.package_tarball_full_path = "";
      if (raw.link && typeof raw.link === "object" && "source" in raw.link)
        shipped.link = { ...raw.link, source: "" };
      return {
        recordFile,
        name: asString(raw.name) ?? name,
        version: asString(raw.version) ?? "",
        build: asString(raw.build) ?? "",
        files: Array.isArray(raw.files)
          ? raw.files.filter((file): file is string => typeof file === "string")
          : [],
        ...(paths && { paths }),
        shipped: Buffer.from(`${JSON.stringify(shipped, null, 2)}\n`),
      };
    }),
  );
}
