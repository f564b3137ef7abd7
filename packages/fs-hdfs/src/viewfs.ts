// viewfs://: Hadoop's client-side mount table. core-site.xml maps path prefixes of a mount table to target file
// systems (`fs.viewfs.mounttable.<table>.link./user` = `hdfs://nn1:8020/user`); each path goes to the target of the
// longest link above it, else to the table's `linkFallback`. URIs stay viewfs:// so that Hadoop, on the cluster's
// nodes, resolves them through the same table.

import { posix } from "node:path";
import {
  defaultFileSystemOf,
  type FileInfo,
  type FileSystem,
  type HadoopConfiguration,
  isStorageError,
  putCommitting,
  type ResolvedPath,
  resolveFileSystem,
  StorageError,
  type StorageOptions,
} from "@cluster-pack/fs";
import { type HadoopSettings, hadoopSettingsOnce } from "./hadoop-config.js";
import { normalizePath, pathOfUri } from "./uri-path.js";

const PREFIX = "fs.viewfs.mounttable.";
/** The property naming the table of `viewfs:///` (Hadoop's `CONFIG_VIEWFS_DEFAULT_MOUNT_TABLE_NAME_KEY`). */
export const DEFAULT_MOUNT_TABLE_NAME_KEY = "fs.viewfs.mounttable.default.name.key";

/** One link of a mount table: everything under `path` (a normalized absolute path) lives under `target`. */
export interface ViewFsLink {
  path: string;
  target: string;
}

/** A mount table as core-site.xml defines it. */
export interface ViewFsMountTable {
  name: string;
  /** Longest path first, so the first link above a path is the one that serves it. */
  links: readonly ViewFsLink[];
  fallback?: string;
}

/** Where a viewfs path goes: the link (or the fallback, whose `path` is "/") and the target URI. */
export interface ViewFsResolution {
  mount: ViewFsLink;
  /** The path under the mount point, "" or starting with "/". */
  remainder: string;
  /** The full target URI of the path. */
  target: string;
}

const invalid = (detail: string, uri: string) => new StorageError("INVALID_ARGUMENT", detail, { uri });

/** An absolute path without repeated or trailing slashes. */

/** Whether `path` is `mount` or below it, on path-component boundaries. */
const isUnder = (path: string, mount: string) =>
  mount === "/" || path === mount || path.startsWith(`${mount}/`);

const encodePath = (path: string) => encodeURI(path).replace(/[?#]/g, encodeURIComponent);

/** The mount table a viewfs:// URI names: its authority, or the default table for `viewfs:///`. */
export function mountTableNameOf(uri: URL, configuration: HadoopConfiguration): string {
  return uri.host || configuration.get(DEFAULT_MOUNT_TABLE_NAME_KEY) || "default";
}

/** The links and fallback of one mount table (Hadoop's linkMerge, linkNfly and linkRegex are not read). */
export function viewFsMountTable(configuration: HadoopConfiguration, name: string): ViewFsMountTable {
  const tablePrefix = `${PREFIX}${name}.`;
  const links: ViewFsLink[] = [];
  let fallback: string | undefined;
  for (const [key, value] of configuration) {
    if (!key.startsWith(tablePrefix) || !value) continue;
    const rest = key.slice(tablePrefix.length);
    if (rest === "linkFallback") fallback = value;
    else if (rest.startsWith("link."))
      links.push({ path: normalizePath(rest.slice("link.".length)), target: value });
  }
  links.sort((a, b) => b.path.length - a.path.length || (a.path < b.path ? -1 : 1));
  return { name, links, ...(fallback !== undefined && { fallback }) };
}

/** The target URI of a path under a mount: the link's target with the rest of the path appended. */
function targetOf(mount: ViewFsLink, remainder: string, source: string, table: string): string {
  if (!URL.canParse(mount.target)) {
    throw invalid(`mount table ${table} links ${mount.path} to ${mount.target}, which is not a URI`, source);
  }
  const scheme = new URL(mount.target).protocol.slice(0, -1).toLowerCase();
  if (scheme === "viewfs") {
    throw invalid(
      `mount table ${table} links ${mount.path} to ${mount.target}: a link cannot target viewfs://`,
      source,
    );
  }
  if (!remainder) return mount.target;
  const url = new URL(mount.target);
  // `file:///` and `hdfs://nn:8020/` end in the slash that starts their path: the remainder brings its own.
  const base =
    url.pathname === "/" || url.pathname === ""
      ? `${url.protocol}//${url.host}`
      : mount.target.replace(/\/+$/, "");
  return `${base}${encodePath(remainder)}`;
}

/** The link (longest first) or fallback serving an absolute path, and its target; undefined when neither does. */
export function resolveViewFsPath(
  table: ViewFsMountTable,
  path: string,
  source: string,
): ViewFsResolution | undefined {
  const normalized = normalizePath(path);
  const link = table.links.find((candidate) => isUnder(normalized, candidate.path));
  const mount = link ?? (table.fallback !== undefined ? { path: "/", target: table.fallback } : undefined);
  if (!mount) return undefined;
  const remainder =
    mount.path === "/" ? (normalized === "/" ? "" : normalized) : normalized.slice(mount.path.length);
  return { mount, remainder, target: targetOf(mount, remainder, source, table.name) };
}

const noMount = (table: ViewFsMountTable, uri: string) =>
  invalid(
    `no link of viewfs mount table ${table.name} covers this path, and it has no linkFallback (${PREFIX}${table.name}.link.<path> in core-site.xml)`,
    uri,
  );

/**
 * The URI a `viewfs://<table>/path` (or `viewfs:///path`, the default table) stands for, by the mount table of
 * `configuration`: the longest link above the path, else the table's linkFallback.
 */
export function resolveViewFs(uri: string | URL, configuration: HadoopConfiguration): string {
  const href = typeof uri === "string" ? uri : uri.href;
  if (!URL.canParse(href)) throw invalid("not a valid URL", href);
  const url = new URL(href);
  if (url.protocol !== "viewfs:") throw invalid(`${url.protocol}// is not viewfs://`, href);
  const table = viewFsMountTable(configuration, mountTableNameOf(url, configuration));
  const resolution = resolveViewFsPath(table, pathOfUri(url), href);
  if (!resolution) throw noMount(table, href);
  return resolution.target;
}

/** Whether a path is an inner directory of the table (an ancestor of a link), and the names below it. */
function innerDirectoryEntries(table: ViewFsMountTable, path: string): string[] | undefined {
  const prefix = path === "/" ? "/" : `${path}/`;
  const names = new Set<string>();
  for (const link of table.links) {
    if (link.path.startsWith(prefix)) names.add(link.path.slice(prefix.length).split("/")[0] as string);
  }
  return names.size > 0 ? [...names].sort() : undefined;
}

interface MountedFileSystem {
  fs: FileSystem;
  /** The link target's path in `fs`'s own path space. */
  base: string;
}

/**
 * A file system over a mount table: each path is served by its link's target file system (any scheme
 * `resolveFileSystem` knows, given the same options); its URIs read `<uriPrefix><path>` (`viewfs://cluster`).
 */
export function viewFileSystem(
  table: ViewFsMountTable,
  uriPrefix: string,
  options: StorageOptions = {},
): FileSystem {
  const toUri = (path: string) => `${uriPrefix}${encodePath(path)}`;
  const mounted = new Map<string, Promise<MountedFileSystem>>();

  const mountOf = (link: ViewFsLink, path: string): Promise<MountedFileSystem> => {
    let opening = mounted.get(link.path);
    if (!opening) {
      opening = resolveFileSystem(targetOf(link, "", toUri(path), table.name), options).then(
        ({ fs, path: base }: ResolvedPath) => ({ fs, base }),
      );
      mounted.set(link.path, opening);
      opening.catch(() => mounted.delete(link.path));
    }
    return opening;
  };

  /** Puts the viewfs URI back in place of the target's in an error about a path under a mount. */
  const rewritten = (error: unknown, target: MountedFileSystem, mountPath: string): unknown => {
    if (!(error instanceof StorageError) || error.location === undefined) return error;
    const targetRoot = target.fs.toUri(target.base).replace(/\/+$/, "");
    const location = error.location;
    if (location !== targetRoot && !location.startsWith(`${targetRoot}/`)) return error;
    let rest = location.slice(targetRoot.length);
    try {
      // URIs are percent-encoded; a local file system's "URIs" are plain paths.
      if (targetRoot.includes("://")) rest = decodeURI(rest);
    } catch {
      return error;
    }
    const viewPath = normalizePath(`${mountPath}/${rest}`);
    return new StorageError(error.code, error.detail, { uri: toUri(viewPath), cause: error });
  };

  /** The target file system and path of a viewfs path; throws for a path no link or fallback serves. */
  const locate = async (rawPath: string) => {
    const path = normalizePath(rawPath);
    const resolution = resolveViewFsPath(table, path, toUri(path));
    if (!resolution) throw noMount(table, toUri(path));
    const target = await mountOf(resolution.mount, path);
    const joined = `${target.base.replace(/\/+$/, "")}${resolution.remainder}`;
    return {
      path,
      resolution,
      fs: target.fs,
      targetPath: joined || target.base,
      /** Runs an operation on the target, with errors naming viewfs URIs. */
      run: async <T>(operation: (fs: FileSystem) => Promise<T>): Promise<T> => {
        try {
          return await operation(target.fs);
        } catch (error) {
          throw rewritten(error, target, resolution.mount.path);
        }
      },
    };
  };

  const innerDirectory = (path: string): FileInfo | undefined => {
    if (table.fallback !== undefined || table.links.some((link) => isUnder(path, link.path)))
      return undefined;
    if (!innerDirectoryEntries(table, path)) return undefined;
    return { path, name: path === "/" ? "/" : posix.basename(path), type: "directory", size: 0 };
  };

  const refuseMountPoint = (located: Awaited<ReturnType<typeof locate>>, verb: string) => {
    // A link's own directory, or the root (the linkFallback's): Hadoop refuses these too.
    if (located.resolution.remainder !== "") return;
    const what = located.path === "/" ? "the root" : "a mount point";
    throw invalid(`cannot ${verb} ${what} of viewfs mount table ${table.name}`, toUri(located.path));
  };

  const stat = async (rawPath: string): Promise<FileInfo> => {
    const path = normalizePath(rawPath);
    const inner = innerDirectory(path);
    if (inner) return inner;
    const located = await locate(path);
    const info = await located.run((fs) => fs.stat(located.targetPath));
    return { ...info, path, name: path === "/" ? "/" : posix.basename(path) };
  };

  return {
    scheme: "viewfs",
    supportsBeforeCommit: true,
    toUri,
    stat,

    async exists(rawPath) {
      try {
        await stat(rawPath);
        return true;
      } catch (error) {
        if (isStorageError(error, "NOT_FOUND")) return false;
        throw error;
      }
    },

    async ls(rawPath) {
      const path = normalizePath(rawPath);
      const inner = innerDirectory(path);
      if (inner) {
        // Mount points and the inner directories above them, as Hadoop lists an inner directory of the table.
        return (innerDirectoryEntries(table, path) ?? []).map((name) => ({
          path: path === "/" ? `/${name}` : `${path}/${name}`,
          name,
          type: "directory" as const,
          size: 0,
        }));
      }
      const located = await locate(path);
      const entries = await located.run((fs) => fs.ls(located.targetPath));
      const [only] = entries;
      if (entries.length === 1 && only?.type === "file" && only.path === located.targetPath) {
        return [{ ...only, path, name: posix.basename(path) }];
      }
      return entries.map((entry) => ({
        ...entry,
        path: path === "/" ? `/${entry.name}` : `${path}/${entry.name}`,
      }));
    },

    async mkdir(rawPath) {
      const path = normalizePath(rawPath);
      if (innerDirectory(path)) return;
      const located = await locate(path);
      await located.run((fs) => fs.mkdir(located.targetPath));
    },

    async put(source, remotePath, putOptions) {
      const located = await locate(remotePath);
      // A mount may lead to an adapter without the hook: putCommitting honours it either way.
      await located.run((fs) => putCommitting(fs, source, located.targetPath, putOptions));
    },

    async get(remotePath, localPath, getOptions) {
      const located = await locate(remotePath);
      await located.run((fs) => fs.get(located.targetPath, localPath, getOptions));
    },

    async open(rawPath, openOptions) {
      const located = await locate(rawPath);
      return located.run((fs) => fs.open(located.targetPath, openOptions));
    },

    async rm(rawPath, rmOptions) {
      const located = await locate(rawPath);
      refuseMountPoint(located, "remove");
      await located.run((fs) => fs.rm(located.targetPath, rmOptions));
    },

    async rename(fromPath, toPath, renameOptions) {
      const from = await locate(fromPath);
      const to = await locate(toPath);
      if (from.resolution.mount.path !== to.resolution.mount.path) {
        throw invalid(
          `cannot rename across mount points of viewfs mount table ${table.name}: ${toUri(from.path)} is under ${from.resolution.mount.path}, the target under ${to.resolution.mount.path}`,
          toUri(to.path),
        );
      }
      refuseMountPoint(from, "rename");
      refuseMountPoint(to, "replace");
      await from.run((fs) => fs.rename(from.targetPath, to.targetPath, renameOptions));
    },

    async close() {
      const opened = await Promise.allSettled(mounted.values());
      mounted.clear();
      await Promise.all(
        opened.map((result) => (result.status === "fulfilled" ? result.value.fs.close?.() : undefined)),
      );
    },
  };
}

/**
 * The viewfs file system and path of a URI, by the mount table of the Hadoop configuration (`HADOOP_CONF_DIR`,
 * else `$HADOOP_HOME/etc/hadoop`, else /etc/hadoop/conf). `viewUri` names the table and how URIs are written back:
 * the URI itself, or `fs.defaultFS` for an `hdfs:///path` whose default file system is viewfs.
 */
export async function resolveViewFsUri(
  uri: URL,
  options: StorageOptions,
  viewUri: URL = uri,
  hadoop: HadoopSettings = hadoopSettingsOnce(),
): Promise<ResolvedPath> {
  const { confDir, configuration } = await hadoop();
  if (!confDir) {
    throw invalid(
      "viewfs:// needs the mount table of core-site.xml, and no Hadoop configuration was found: set HADOOP_CONF_DIR (or HADOOP_HOME)",
      uri.href,
    );
  }
  const path = pathOfUri(uri);
  const table = viewFsMountTable(configuration, mountTableNameOf(viewUri, configuration));
  if (table.links.length === 0 && table.fallback === undefined) {
    throw invalid(
      `${confDir} defines no viewfs mount table ${table.name} (${PREFIX}${table.name}.link.<path>)`,
      uri.href,
    );
  }
  return { fs: viewFileSystem(table, `viewfs://${viewUri.host}`, options), path };
}

/**
 * `fs.defaultFS` when it is a viewfs:// mount table and `uri` is `hdfs:///path`, which then goes through that
 * table (`hdfs://host/…` and `webhdfs://` URIs never do).
 */
export async function viewFsDefaultFor(
  uri: URL,
  hadoop: HadoopSettings = hadoopSettingsOnce(),
): Promise<URL | undefined> {
  if (uri.protocol !== "hdfs:" || uri.host) return undefined;
  const { configuration } = await hadoop();
  const defaultFs = defaultFileSystemOf(configuration);
  if (!defaultFs || !URL.canParse(defaultFs)) return undefined;
  const parsed = new URL(defaultFs);
  return parsed.protocol === "viewfs:" ? parsed : undefined;
}
