export {
  encodeTokenToUrlString,
  type HadoopToken,
  parseTokenStorage,
  readTokenStorageFile,
  selectDelegationToken,
  TOKEN_FILE_ENV,
  tokenServicesOf,
} from "./delegation-tokens.js";
export { RemoteException } from "./errors.js";
export {
  defaultFileSystemOf,
  type HadoopConfiguration,
  parseHadoopConfiguration,
  readHadoopConfiguration,
  webHdfsUrlsFor,
} from "./hadoop-config.js";
export type { HdfsFileSystemOptions } from "./hdfs-file-system.js";
export { fileSystemPlugin as default, fileSystemPlugin, hdfsFileSystem } from "./hdfs-file-system.js";
export {
  DEFAULT_MOUNT_TABLE_NAME_KEY,
  mountTableNameOf,
  resolveViewFs,
  resolveViewFsPath,
  type ViewFsLink,
  type ViewFsMountTable,
  type ViewFsResolution,
  viewFileSystem,
  viewFsMountTable,
} from "./viewfs.js";
