export type { ByteRange, SizedByteRange } from "./byte-range.js";
export { checkByteRange } from "./byte-range.js";
export { putCommitting } from "./committing-put.js";
export { embeddedStorePath, STORE_ENV } from "./embedded-store.js";
export type { StorageErrorCode, StorageErrorOptions } from "./errors.js";
export { errnoOf, fromSystemError, isAbort, isStorageError, StorageError } from "./errors.js";
export type {
  FileInfo,
  FileSystem,
  FileSystemFactory,
  FileSystemPlugin,
  FileType,
  GetOptions,
  OpenOptions,
  ProgressCallback,
  PutOptions,
  PutResult,
  PutSource,
  RenameOptions,
  ResolvedPath,
  RmOptions,
  StorageOptions,
  StoredChecksum,
  TransferProgress,
} from "./file-system.js";
export { defineFileSystemPlugin } from "./file-system.js";
export type { HadoopConfiguration } from "./hadoop-configuration.js";
export {
  defaultFileSystemOf,
  hadoopConfDirOf,
  parseHadoopConfiguration,
  readHadoopConfiguration,
  readHadoopConfigurationFrom,
  SYSTEM_HADOOP_CONF_DIR,
} from "./hadoop-configuration.js";
export { localFileSystem, localPathOf } from "./local-file-system.js";
export type { NetworkPolicy, RetryOptions, StorageLog } from "./network-policy.js";
export { DEFAULT_NETWORK_POLICY, networkPolicyOf, withRetries } from "./network-policy.js";
export {
  builtinAdapters,
  hasScheme,
  loadFileSystemPlugin,
  loadFileSystemPlugins,
  PLUGINS_ENV,
  registeredSchemes,
  registerFileSystem,
  resolveFileSystem,
  schemeOf,
  unregisterFileSystem,
} from "./registry.js";
export type { AtomicWriteOptions, OpenedSource } from "./transfer.js";
export {
  openLocalFile,
  openPutSource,
  progressTap,
  sha256OfLocalFile,
  writeFileAtomically,
} from "./transfer.js";
