import { defineFileSystemPlugin, StorageError, type StorageOptions } from "@cluster-pack/fs";
import { s3FileSystem } from "./s3-file-system.js";
import { pathOfUrl } from "./s3-location.js";
import type { S3FileSystemOptions } from "./s3-options.js";

function s3OptionsOf(options: StorageOptions): S3FileSystemOptions {
  const { s3 } = options;
  if (s3 === undefined) return {};
  if (typeof s3 !== "object" || s3 === null || Array.isArray(s3)) {
    throw new StorageError("INVALID_ARGUMENT", "options.s3 must be an object of S3 settings");
  }
  return s3 as S3FileSystemOptions;
}

/** `s3://bucket/key` and Hadoop's `s3a://bucket/key`, which name the same object; messages keep what the user wrote. */
export const fileSystemPlugin = defineFileSystemPlugin({
  schemes: ["s3", "s3a"],
  factory(uri, options) {
    const path = pathOfUrl(uri);
    const scheme = uri.protocol === "s3a:" ? "s3a" : "s3";
    return { fs: s3FileSystem({ ...s3OptionsOf(options), scheme }, options), path };
  },
});
