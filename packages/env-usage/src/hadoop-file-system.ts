// Which Hadoop file system a URI lives on, for the emitters that must name every file system a job reads from on a
// secure cluster (YARN gets delegation tokens only for the default FS and the ones it is told about).

import { toHadoopUri } from "./hadoop-uri.js";

// Hadoop's default ports, so that `hdfs://nn` and `hdfs://nn:8020` are one file system.
const DEFAULT_PORTS: Readonly<Record<string, string>> = { hdfs: "8020", webhdfs: "9870", swebhdfs: "9871" };

const WITH_AUTHORITY = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/;

/**
 * `scheme://authority` of the Hadoop file system a URI is on (`hdfs://nn2:8020`, `s3a://bucket`, `viewfs://cluster`),
 * the scheme and host in lower case, `s3://` read as Hadoop's `s3a://`, any user info left out. Undefined for what
 * needs no file system to be named: plain paths, `file:` URIs, and URIs without an authority (`hdfs:///x` is the
 * default file system itself).
 */
export function hadoopFileSystemOf(uri: string): string | undefined {
  const match = WITH_AUTHORITY.exec(toHadoopUri(uri.trim()));
  if (!match) return undefined;
  const scheme = (match[1] ?? "").toLowerCase();
  const authority = (match[2] ?? "").replace(/^.*@/, "");
  if (scheme === "file" || authority === "") return undefined;
  // The host is case-insensitive, the port is not part of it; an IPv6 literal keeps its brackets.
  const hostPort = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  const host = (hostPort?.[1] ?? authority).toLowerCase();
  const port = hostPort?.[2];
  return `${scheme}://${host}${port ? `:${port}` : ""}`;
}

/** A file system's identity for comparisons: its `hadoopFileSystemOf` with the scheme's default port made explicit. */
function identityOf(fileSystem: string): string | undefined {
  const named = hadoopFileSystemOf(fileSystem);
  if (named === undefined) return undefined;
  const scheme = named.slice(0, named.indexOf(":"));
  const port = DEFAULT_PORTS[scheme];
  return port && !/:\d+$/.test(named) ? `${named}:${port}` : named;
}

/**
 * The file systems of `uris` a job must name besides Hadoop's default file system (`fs.defaultFS`), each once and
 * in the order of `uris`, leaving out those `given` already names (compared as file systems, not as strings) and
 * those that need none (`hadoopFileSystemOf`). `file:` and authority-less URIs are never named.
 */
export function fileSystemsToName(
  uris: Iterable<string>,
  defaultFileSystem: string,
  given: Iterable<string> = [],
): string[] {
  const seen = new Set<string>();
  for (const uri of [defaultFileSystem, ...given]) {
    const identity = identityOf(uri);
    if (identity !== undefined) seen.add(identity);
  }
  const named: string[] = [];
  for (const uri of uris) {
    const fileSystem = hadoopFileSystemOf(uri);
    const identity = fileSystem && identityOf(fileSystem);
    if (fileSystem === undefined || identity === undefined || seen.has(identity)) continue;
    seen.add(identity);
    named.push(fileSystem);
  }
  return named;
}
