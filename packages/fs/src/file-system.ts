import type { Readable } from "node:stream";
import type { NetworkPolicy, StorageLog } from "./network-policy.js";

export type FileType = "file" | "directory";

export interface FileInfo {
  /** Full path in the file system's own path space (what `resolveFileSystem` returns as `path`). */
  path: string;
  /** Last path component. */
  name: string;
  type: FileType;
  /** Bytes; 0 for directories. */
  size: number;
  /** Last modification, when the backend knows it. */
  modifiedAt?: Date;
  /** Unix permission bits, when the backend has them. */
  mode?: number;
}

export interface TransferProgress {
  /** Bytes moved so far. */
  transferredBytes: number;
  /** Total bytes, when known in advance. */
  totalBytes?: number;
}

export type ProgressCallback = (progress: TransferProgress) => void;

/** What `put` accepts: a local file path, or the bytes themselves as a stream. */
export type PutSource = string | Readable | AsyncIterable<Uint8Array>;

export interface PutOptions {
  /** Replace an existing file (default). With `false`, an existing target is an ALREADY_EXISTS error. */
  overwrite?: boolean;
  onProgress?: ProgressCallback;
  /** Size of a stream source, when known: lets progress report a total. */
  size?: number;
  /**
   * Permission bits of the new file for a stream source (a local file source carries its own), where the store
   * keeps them (the local adapter): `0o755` keeps a zipapp executable.
   */
  mode?: number;
  signal?: AbortSignal;
  /**
   * Called once every byte is stored and right before the target is replaced: the last moment to withdraw what
   * described the previous content (an archive's metadata), so that no reader pairs it with the new bytes. If it
   * throws, the put fails and the previous target stays. Only adapters with `supportsBeforeCommit` call it.
   */
  beforeCommit?: () => Promise<void>;
}

/**
 * A checksum of stored bytes, as the store computed it from what it holds (S3's ETag, HDFS's `GETFILECHECKSUM`) or
 * as the adapter re-read it, and compared by the adapter with the same checksum computed from the bytes it sent.
 */
export interface StoredChecksum {
  /** How `value` is computed: `sha256`, `md5` (an S3 ETag), `s3-multipart-md5` (`<md5 of part md5s>-<parts>`),
   * or HDFS's own name (`MD5-of-0MD5-of-512CRC32C`). */
  algorithm: string;
  /** Hex digest, as the store prints it. */
  value: string;
}

/** What a completed `put` tells about the stored bytes. */
export interface PutResult {
  /**
   * The checksum the stored bytes were verified with: the adapter compared the store's view of what it holds with
   * the bytes it sent, before the target was replaced. Absent when the store offers no way to check.
   */
  verified?: StoredChecksum;
}

export interface GetOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * A byte range to read. An offset at the end reads nothing, past the end is INVALID_ARGUMENT; a length past the end
 * reads to the end (`checkByteRange` states the whole rule).
 */
export interface OpenOptions {
  /** First byte to read: an integer ≥ 0 (default 0). */
  offset?: number | undefined;
  /** Number of bytes to read: an integer ≥ 0 (default: to the end). */
  length?: number | undefined;
}

export interface RmOptions {
  /** Remove a directory and everything under it. Without it, only files and empty directories go. */
  recursive?: boolean;
}

export interface RenameOptions {
  /** Replace an existing target file. Without it, an existing target is an ALREADY_EXISTS error. */
  overwrite?: boolean;
}

/**
 * One storage backend. Paths are in the backend's own path space, as `resolveFileSystem` returns them
 * (an absolute local path, `bucket/key` for S3, `/absolute/path` for HDFS). Argument order follows fsspec.
 * Every method throws `StorageError`.
 */
export interface FileSystem {
  /** The URI scheme this instance serves (`file`, `s3`, `hdfs`…). */
  readonly scheme: string;
  /**
   * Whether `put` calls `beforeCommit`. Callers that need it fall back to writing a temporary name and renaming
   * it when an adapter (a plugin written before the hook) does not.
   */
  readonly supportsBeforeCommit?: boolean;
  /** The URI a user would write for `path`; used in messages. */
  toUri(path: string): string;
  stat(path: string): Promise<FileInfo>;
  exists(path: string): Promise<boolean>;
  /** Children of a directory, sorted by name; a file lists as itself. */
  ls(path: string): Promise<FileInfo[]>;
  /** Creates the directory and its parents; an existing directory is fine. */
  mkdir(path: string): Promise<void>;
  /**
   * Uploads a local file or a stream to `remotePath`. The target appears complete or not at all; where the store
   * can tell what it holds, the adapter checks it against the bytes sent before the target changes (a mismatch is
   * a TRANSIENT error and the previous target stays), and says so in the result.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: plugins written before PutResult resolve to void, and stay valid.
  put(source: PutSource, remotePath: string, options?: PutOptions): Promise<PutResult | undefined | void>;
  /** Downloads `remotePath` to `localPath`, which appears complete or not at all. */
  get(remotePath: string, localPath: string, options?: GetOptions): Promise<void>;
  open(path: string, options?: OpenOptions): Promise<Readable>;
  rm(path: string, options?: RmOptions): Promise<void>;
  rename(from: string, to: string, options?: RenameOptions): Promise<void>;
  /**
   * Removes the uploads under `directory` that were started before `startedBefore` and never completed, where the
   * store keeps such state apart from files (S3's unfinished multipart uploads, left by a killed run); returns a
   * description of each (`s3://bucket/key (upload started <date>)`). Stores without such state do not have it.
   */
  removeIncompleteUploads?(directory: string, startedBefore: Date): Promise<string[]>;
  /** Releases connections; the instance is unusable afterwards. */
  close?(): Promise<void>;
}

/** A file system and the path inside it that a URI names. */
export interface ResolvedPath {
  fs: FileSystem;
  path: string;
}

/**
 * Options for `resolveFileSystem`. Each adapter reads its own key (`s3`, `hdfs`, or a plugin's scheme);
 * `plugins` names packages to load before resolving.
 */
export interface StorageOptions {
  plugins?: readonly string[];
  /** Timeouts and retries, shared by every adapter that talks to a server. */
  network?: NetworkPolicy;
  /** Where adapters say what they do that a user may want to see (`--verbose`): retries, failovers. */
  log?: StorageLog;
  [adapterKey: string]: unknown;
}

/** Builds the file system for a URI of a registered scheme. */
export type FileSystemFactory = (uri: URL, options: StorageOptions) => ResolvedPath | Promise<ResolvedPath>;

/**
 * What a storage package exports (as `default` or `fileSystemPlugin`) so that it can be loaded by name:
 * the schemes it serves and the factory for them.
 */
export interface FileSystemPlugin {
  schemes: readonly string[];
  factory: FileSystemFactory;
}

/** Identity helper that gives a plugin object its type, for packages that only depend on our types. */
export function defineFileSystemPlugin(plugin: FileSystemPlugin): FileSystemPlugin {
  return plugin;
}
