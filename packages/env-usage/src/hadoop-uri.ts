/**
 * The URI Hadoop (YARN localization, Spark on YARN, skein) reads for a storage URI. Hadoop's S3 client is S3A:
 * `s3://` has no FileSystem in Hadoop 3 and `s3n://` was removed, so both become `s3a://`. The scheme is written
 * in lower case (`S3A://` too): Hadoop finds a file system by its scheme as written (`fs.s3a.impl`), and
 * emitters recognise S3 by the `s3a://` prefix. Every other URI, and plain paths, pass through unchanged.
 */
export const toHadoopUri = (uri: string) => uri.replace(/^s3[an]?:\/\//i, "s3a://");
