import { metadataPathOf, type Packer } from "@cluster-pack/env-usage";
import { type FileSystem, isStorageError, type StoredChecksum } from "@cluster-pack/fs";
import ownPackage from "../package.json";
import { defaultCompressionLevels } from "./pack-env.js";
import { readTextFile } from "./storage.js";

/**
 * The JSON file beside each archive. cluster-pack's three keys (so its own `_is_archive_up_to_date` reads our
 * uploads) plus ours. It is written last: whoever reads it may trust the archive it describes.
 */
export interface ArchiveMetadata {
  /** `name==version` of every packed requirement (cluster-pack's `package_installed`). */
  package_installed: string[];
  /** `platform.platform()` of the packing interpreter. */
  platform: string;
  /** `"3.11.7"`. */
  python_version: string;
  /** python-env's fingerprint of the environment (RECORD hashes included), plus the baked-in editables. */
  fingerprint: string;
  /** Hex sha256 of the archive. */
  sha256: string;
  /** Bytes of the archive. */
  size: number;
  /**
   * The store's own checksum of the archive (S3's ETag, HDFS's `GETFILECHECKSUM`, sha256 for a local path), which
   * the adapter compared with the bytes sent before publishing: `{ "algorithm": "s3-multipart-md5", "value": … }`.
   * Absent for stores that offer no way to check (a plugin) and in metadata written before it was recorded.
   */
  checksum?: StoredChecksum;
  /** The packer: `pex`, `pex.zip`, `venv` or `conda`. */
  format: Packer;
  /**
   * Whether the archive carries its Python interpreter, so nodes need none: venv archives packed with
   * `withPython`, and every conda archive. Absent (false) for pex archives and plain venv archives, which run with
   * the nodes' own Python (a venv's base interpreter at the same path).
   */
  with_python?: boolean;
  /** The interpreter the archive carries, when `with_python`: what a node's OS and CPU must run. */
  interpreter?: ShippedInterpreter;
  /** The path a conda archive was packed for (`destPrefix`): it must be unpacked exactly there. */
  dest_prefix?: string;
  /**
   * The deflate or gzip level the archive was packed with, 0–9 (0: stored; `compression`'s names resolved).
   * Absent in metadata written before it was recorded: the packer's default level then.
   */
  compression_level?: number;
  /** The `exclude` patterns the archive was packed with, sorted, each once; absent when none. */
  exclude?: string[];
  /** `true` when the archive holds precompiled bytecode (`compile`); absent otherwise. */
  compile?: boolean;
  /**
   * For an archive packed from requirements or a lock: the platform tags, Python version and implementation it was
   * resolved for (not this machine's necessarily). Absent for an archive of an installed environment.
   */
  target?: { platforms: string[]; python_version: string; implementation: string };
  /** For an archive packed from requirements or a lock: every wheel installed into it, file name → hex sha256. */
  wheels?: Record<string, string>;
  /** `cluster-pack@<version>`. */
  tool: string;
  /** When the archive was published (ISO 8601). */
  created: string;
}

/** The interpreter inside an archive (`with_python`). */
export interface ShippedInterpreter {
  /** `"3.11.7"`. */
  version: string;
  implementation: string;
  /** `<os>-<machine>`, as `sysconfig.get_platform()`: `linux-x86_64`, `linux-aarch64`. */
  platform: string;
  /** The glibc it was built against: nodes need this one or later. Absent for musl or macOS builds. */
  glibc?: string;
}

export const toolVersion = `${ownPackage.name}@${ownPackage.version}`;

/** The stored metadata, or undefined when there is none or it is unreadable (then the archive is not trusted). */
export async function readArchiveMetadata(
  fs: FileSystem,
  archivePath: string,
): Promise<Partial<ArchiveMetadata> | undefined> {
  let text: string;
  try {
    text = await readTextFile(fs, metadataPathOf(archivePath));
  } catch (error) {
    if (isStorageError(error, "NOT_FOUND")) return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Partial<ArchiveMetadata>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** What must match for a stored archive to be reused. */
export type CacheKey = Pick<
  ArchiveMetadata,
  | "package_installed"
  | "platform"
  | "python_version"
  | "fingerprint"
  | "format"
  | "with_python"
  | "dest_prefix"
  | "compression_level"
  | "exclude"
  | "compile"
  | "target"
  | "wheels"
>;

/**
 * cluster-pack's check (same sorted requirements, platform, Python version) plus our fingerprint, format, whether
 * the interpreter is inside, the destination of a conda archive, the compression level, the exclude patterns and
 * whether bytecode is inside. Metadata from before the last three were recorded describes an archive packed at the
 * packer's default level with nothing excluded and no bytecode, and compares as such.
 */
export function isUpToDate(stored: Partial<ArchiveMetadata> | undefined, expected: CacheKey): boolean {
  if (!stored || !Array.isArray(stored.package_installed)) return false;
  const sorted = (list: readonly string[]) => JSON.stringify([...list].sort());
  return (
    sorted(stored.package_installed) === sorted(expected.package_installed) &&
    stored.platform === expected.platform &&
    stored.python_version === expected.python_version &&
    stored.fingerprint === expected.fingerprint &&
    stored.format === expected.format &&
    (stored.with_python ?? false) === (expected.with_python ?? false) &&
    stored.dest_prefix === expected.dest_prefix &&
    (stored.compression_level ?? defaultCompressionLevels[expected.format]) ===
      (expected.compression_level ?? defaultCompressionLevels[expected.format]) &&
    sorted(Array.isArray(stored.exclude) ? stored.exclude : []) === sorted(expected.exclude ?? []) &&
    (stored.compile === true) === (expected.compile ?? false) &&
    typeof stored.sha256 === "string" &&
    typeof stored.size === "number"
  );
}
