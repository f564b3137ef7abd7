import { StorageError } from "@cluster-pack/fs";

/** An absolute path without repeated or trailing slashes. */
export function normalizePath(path: string): string {
  if (!path.startsWith("/"))
    throw new StorageError("INVALID_ARGUMENT", "HDFS paths are absolute: start them with /", { uri: path });
  return `/${path.split("/").filter(Boolean).join("/")}`;
}

/**
 * The decoded, normalised path of an `hdfs://`, `webhdfs://` or `viewfs://` URI. A query or a fragment is refused:
 * it would be part of a file name Hadoop never sees.
 */
export function pathOfUri(uri: URL): string {
  if (uri.search || uri.hash)
    throw new StorageError(
      "INVALID_ARGUMENT",
      `a ${uri.protocol.slice(0, -1)}:// URI has no query or fragment: percent-encode ? and # in names (%3F, %23)`,
      { uri: uri.href },
    );
  let decoded: string;
  try {
    decoded = decodeURIComponent(uri.pathname);
  } catch (cause) {
    throw new StorageError("INVALID_ARGUMENT", "malformed percent-encoding in the path", {
      uri: uri.href,
      cause,
    });
  }
  return normalizePath(decoded || "/");
}
