/**
 * The URI Hadoop (YARN localization, Spark on YARN, skein) reads for a storage URI. Hadoop's S3 client is S3A:
 * `s3://` has no FileSystem in Hadoop 3 and `s3n://` was removed, so both become `s3a://`. Every other URI, and
 * plain paths, pass through unchanged.
 */
export const toHadoopUri = (uri: string) => uri.replace(/^s3n?:\/\//i, "s3a://");
