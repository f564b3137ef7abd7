export { fileSystemPlugin, fileSystemPlugin as default } from "./plugin.js";
export { s3FileSystem } from "./s3-file-system.js";
export type { S3Credentials, S3FileSystemOptions } from "./s3-options.js";
