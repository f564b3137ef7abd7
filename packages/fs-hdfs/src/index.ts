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
