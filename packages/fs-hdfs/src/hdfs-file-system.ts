import { randomBytes } from "node:crypto";
import { userInfo } from "node:os";
import { posix } from "node:path";
import { pipeline, Readable } from "node:stream";
import { firstLine } from "@cluster-pack/errors";
import {
  checkByteRange,
  defineFileSystemPlugin,
  type FileInfo,
  type FileSystem,
  fromSystemError,
  isStorageError,
  openPutSource,
  progressTap,
  StorageError,
  writeFileAtomically,
} from "@cluster-pack/fs";
import {
  type EnvironmentCredentials,
  environmentCredentialsFor,
  environmentCredentialsForUrls,
} from "./delegation-tokens.js";
import {
  defaultFileSystemOf,
  type HadoopSettings,
  hadoopSettingsOnce,
  webHdfsUrlsFor,
} from "./hadoop-config.js";
import { Spnego } from "./spnego.js";
import { normalizePath, pathOfUri } from "./uri-path.js";
import { resolveViewFsUri, viewFsDefaultFor } from "./viewfs.js";
import { type HdfsFileStatus, WebHdfsClient } from "./webhdfs-client.js";

/** `options.hdfs` of `resolveFileSystem`, or the argument of `hdfsFileSystem`. */
export interface HdfsFileSystemOptions {
  /** WebHDFS base URLs (`http://nn1:9870`), tried in order; they replace what the URI and HADOOP_CONF_DIR say. */
  namenodes?: readonly string[];
  /** User for Hadoop's simple auth (`user.name`); default HADOOP_USER_NAME, then C_PACK_USER, then the OS user. */
  user?: string;
  /** Act as this user (Hadoop proxy users, `doas`). */
  doAs?: string;
  /** A Hadoop delegation token, sent as `delegation` instead of `user.name`. */
  delegationToken?: string;
  /** The URLs are HttpFS gateways (port 14000): data goes to them, not to datanodes. */
  httpfs?: boolean;
  /** Longest wait, in ms, for an answer or for the next chunk of data (default 60000). */
  timeoutMs?: number;
  /** Ask for the datanode location as JSON (`noredirect=true`, Hadoop 3) instead of following a 307. */
  noRedirect?: boolean;
  /**
   * Authenticate with Kerberos (SPNEGO) from the ticket cache; default: on when the Hadoop configuration says
   * `hadoop.security.authentication=kerberos`, or when `principal`/`keytab` is given. A delegation token wins.
   */
  kerberos?: boolean;
  /** The Kerberos principal to authenticate as (`user@REALM`); default: the ticket cache's. */
  principal?: string;
  /** A keytab with the principal's keys: logs in without kinit. */
  keytab?: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Who a file system talks to, and how its URIs are written back. */
interface HdfsEndpoint {
  scheme: "hdfs" | "webhdfs" | "swebhdfs";
  /** `nn:8020`, a nameservice, or "" for `hdfs:///`. */
  authority: string;
  namenodes: readonly string[];
}

const invalid = (detail: string, uri?: string) =>
  new StorageError("INVALID_ARGUMENT", detail, uri ? { uri } : {});

function hdfsOptionsOf(value: unknown, uri: string): HdfsFileSystemOptions {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) throw invalid("options.hdfs must be an object", uri);
  const options = value as HdfsFileSystemOptions;
  const { namenodes } = options;
  if (namenodes !== undefined) {
    const valid =
      Array.isArray(namenodes) &&
      namenodes.every(
        (base) => typeof base === "string" && URL.canParse(base) && /^https?:$/.test(new URL(base).protocol),
      );
    if (!valid) throw invalid("hdfs namenodes must be http(s) URLs such as http://nn1:9870", uri);
  }
  if (options.kerberos !== undefined && typeof options.kerberos !== "boolean")
    throw invalid("hdfs kerberos must be true or false", uri);
  for (const name of ["principal", "keytab"] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== "string" || value === ""))
      throw invalid(`hdfs ${name} must be a non-empty string`, uri);
  }
  return options;
}

const schemeOf = (url: URL) => url.protocol.slice(0, -1).toLowerCase();

/**
 * The namenodes behind a URI: `webhdfs://host:port` directly; `hdfs://nn:rpcport` and `hdfs://nameservice`
 * through hdfs-site.xml; `hdfs:///` through `fs.defaultFS` of core-site.xml (all from HADOOP_CONF_DIR).
 */
async function resolveEndpoint(
  uri: URL,
  options: HdfsFileSystemOptions,
  hadoop: HadoopSettings,
): Promise<HdfsEndpoint> {
  const scheme = schemeOf(uri);
  if (scheme !== "hdfs" && scheme !== "webhdfs" && scheme !== "swebhdfs")
    throw invalid(`${scheme}:// is not an HDFS scheme`, uri.href);
  const endpoint = (namenodes: readonly string[]): HdfsEndpoint => ({
    scheme,
    authority: uri.host,
    namenodes,
  });
  if (options.namenodes?.length) return endpoint(options.namenodes);
  // HADOOP_CONF_DIR, else $HADOOP_HOME/etc/hadoop, else /etc/hadoop/conf: as Hadoop's scripts find it.
  const { confDir, configuration } = await hadoop();
  if (uri.hostname) return endpoint(webHdfsUrlsFor(configuration, scheme, uri.hostname, uri.port));
  if (!confDir) {
    throw invalid(
      `${scheme}:/// means the default file system of the Hadoop configuration, and there is none (HADOOP_CONF_DIR, $HADOOP_HOME/etc/hadoop, /etc/hadoop/conf): set HADOOP_CONF_DIR to the directory of core-site.xml, or write ${scheme}://namenode:port/path`,
      uri.href,
    );
  }
  const defaultFs = defaultFileSystemOf(configuration);
  if (!defaultFs) {
    throw invalid(
      `HADOOP_CONF_DIR=${confDir} defines no fs.defaultFS (core-site.xml): set it, or write ${scheme}://namenode:port/path`,
      uri.href,
    );
  }
  const target = URL.canParse(defaultFs) ? new URL(defaultFs) : undefined;
  const targetScheme = target && schemeOf(target);
  if (
    !target?.hostname ||
    (targetScheme !== "hdfs" && targetScheme !== "webhdfs" && targetScheme !== "swebhdfs")
  ) {
    throw invalid(
      `fs.defaultFS in HADOOP_CONF_DIR=${confDir} is ${defaultFs}, not an hdfs:// file system`,
      uri.href,
    );
  }
  return endpoint(webHdfsUrlsFor(configuration, targetScheme, target.hostname, target.port));
}

function defaultUser(): string | undefined {
  const fromEnvironment = process.env.HADOOP_USER_NAME || process.env.C_PACK_USER;
  if (fromEnvironment) return fromEnvironment;
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): the server then acts as its static web user.
    return undefined;
  }
}

const childOf = (directory: string, name: string) =>
  directory === "/" ? `/${name}` : `${directory}/${name}`;
const byName = (a: FileInfo, b: FileInfo) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function toFileInfo(path: string, status: HdfsFileStatus): FileInfo {
  const directory = status.type === "DIRECTORY";
  const mode = Number.parseInt(status.permission, 8);
  return {
    path,
    name: path === "/" ? "/" : posix.basename(path),
    type: directory ? "directory" : "file",
    size: directory ? 0 : status.length,
    modifiedAt: new Date(status.modificationTime),
    ...(Number.isNaN(mode) ? {} : { mode }),
  };
}

/** Whether Kerberos is asked for: the option, a principal or keytab, else the Hadoop configuration. */
async function kerberosWanted(options: HdfsFileSystemOptions, hadoop: HadoopSettings): Promise<boolean> {
  if (options.kerberos !== undefined) return options.kerberos;
  if (options.principal || options.keytab) return true;
  const { configuration } = await hadoop();
  return configuration.get("hadoop.security.authentication")?.trim().toLowerCase() === "kerberos";
}

function createHdfsFileSystem(
  endpoint: HdfsEndpoint,
  options: HdfsFileSystemOptions,
  // From $HADOOP_TOKEN_FILE_LOCATION, only when no delegationToken option is given.
  fromTokenFile?: EnvironmentCredentials,
  kerberos = false,
): FileSystem {
  const prefix = `${endpoint.scheme}://${endpoint.authority}`;
  const toUri = (path: string) => `${prefix}${encodeURI(path).replace(/[?#]/g, encodeURIComponent)}`;
  const delegationToken = options.delegationToken || fromTokenFile?.delegationToken;
  // A delegation token authenticates by itself (inside YARN containers there is no ticket).
  const spnego =
    kerberos && !delegationToken
      ? new Spnego({ principal: options.principal, keytab: options.keytab })
      : undefined;
  const client = new WebHdfsClient({
    namenodes: endpoint.namenodes,
    user: options.user ?? defaultUser(),
    doAs: options.doAs,
    delegationToken,
    spnego,
    secrets: fromTokenFile?.secrets ?? [],
    missingTokenHint: fromTokenFile?.missingTokenHint,
    httpfs: options.httpfs ?? false,
    noRedirect: options.noRedirect ?? false,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    uriOf: toUri,
  });

  const stat = async (path: string) => toFileInfo(path, await client.getFileStatus(path));

  /** A failed stream source: its own StorageError (a download from another store), or one about the upload. */
  const streamFailure = (error: unknown, path: string) => {
    if (error instanceof StorageError) return error;
    const reason = firstLine(error);
    return new StorageError("UNKNOWN", `reading the data to upload failed: ${reason}`, {
      uri: toUri(path),
      cause: error,
    });
  };

  const statIfExists = (path: string) =>
    stat(path).catch((error: unknown) => {
      if (isStorageError(error, "NOT_FOUND")) return undefined;
      throw error;
    });

  const mkdir = async (path: string) => {
    if (!(await client.mkdirs(path))) {
      throw new StorageError("UNKNOWN", "the namenode did not create the directory", { uri: toUri(path) });
    }
  };

  /** RENAME, with its bare `false` turned into the reason, found by looking at both ends. */
  const renameOrExplain = async (from: string, to: string) => {
    if (await client.rename(from, to)) return;
    const [source, target, parent] = await Promise.all([
      statIfExists(from),
      statIfExists(to),
      statIfExists(posix.dirname(to)),
    ]);
    if (!source) throw new StorageError("NOT_FOUND", "no such file or directory", { uri: toUri(from) });
    if (target) throw new StorageError("ALREADY_EXISTS", "already exists", { uri: toUri(to) });
    if (!parent) throw new StorageError("NOT_FOUND", "parent directory does not exist", { uri: toUri(to) });
    if (parent.type !== "directory") throw invalid("parent is a file, not a directory", toUri(to));
    const detail = `the namenode refused to rename ${toUri(from)} (RENAME answered false)`;
    throw new StorageError("UNKNOWN", detail, { uri: toUri(to) });
  };

  return {
    scheme: endpoint.scheme,
    supportsBeforeCommit: true,
    toUri,

    stat: (path) => stat(normalizePath(path)),

    async exists(path) {
      return (await statIfExists(normalizePath(path))) !== undefined;
    },

    async ls(path) {
      const directory = normalizePath(path);
      const entries = await client.listStatus(directory);
      const [only] = entries;
      // A file lists as itself, with an empty pathSuffix.
      if (entries.length === 1 && only?.pathSuffix === "") return [toFileInfo(directory, only)];
      return entries.map((entry) => toFileInfo(childOf(directory, entry.pathSuffix), entry)).sort(byName);
    },

    mkdir: (path) => mkdir(normalizePath(path)),

    async put(source, remotePath, putOptions = {}) {
      const path = normalizePath(remotePath);
      const directory = posix.dirname(path);
      // Hidden (Hadoop's input formats skip dot files) and named like `hdfs dfs -put`'s in-flight copies.
      const temporary = childOf(
        directory,
        `.${posix.basename(path)}.${randomBytes(6).toString("hex")}._COPYING_`,
      );
      const opened = await openPutSource(source, putOptions.size);
      let sourceFailure: StorageError | undefined;
      // A failing source is blamed on the source: the local file, or the stream's own StorageError.
      async function* watched(chunks: AsyncIterable<Uint8Array>) {
        try {
          yield* chunks;
        } catch (error) {
          sourceFailure =
            typeof source === "string" ? fromSystemError(error, source) : streamFailure(error, path);
          throw error;
        }
      }
      try {
        const existing = await statIfExists(path);
        if (existing?.type === "directory")
          throw invalid("is a directory; give the path of a file", toUri(path));
        if (existing && putOptions.overwrite === false) {
          throw new StorageError("ALREADY_EXISTS", "already exists (overwrite is off)", { uri: toUri(path) });
        }
        if (!existing) await mkdir(directory);
        const body = pipeline(
          opened.stream,
          progressTap(putOptions.onProgress, opened.size),
          () => undefined,
        );
        try {
          await client.create(temporary, watched(body), { overwrite: false }, putOptions.signal);
          await putOptions.beforeCommit?.();
          // Removed right before the rename, which (unlike POSIX) refuses to replace an existing file.
          if (existing) await client.delete(path, false);
          await renameOrExplain(temporary, path);
        } catch (error) {
          await client.delete(temporary, false).catch(() => undefined);
          throw sourceFailure ?? error;
        }
      } catch (error) {
        // The parent directory and the temporary file are steps of writing the target, which the user named.
        const stepUris = [toUri(directory), toUri(temporary)];
        if (
          error instanceof StorageError &&
          error.location !== undefined &&
          stepUris.includes(error.location)
        ) {
          throw new StorageError(error.code, error.detail, { uri: toUri(path), cause: error.cause });
        }
        throw error;
      } finally {
        opened.stream.destroy();
      }
    },

    async get(remotePath, localPath, getOptions = {}) {
      const path = normalizePath(remotePath);
      const { stream, length } = await client.open(path, {}, getOptions.signal);
      try {
        await writeFileAtomically(localPath, stream, {
          sourceUri: toUri(path),
          ...(getOptions.onProgress && { onProgress: getOptions.onProgress }),
          ...(length !== undefined && { totalBytes: length }),
          ...(getOptions.signal && { signal: getOptions.signal }),
        });
      } finally {
        stream.destroy();
      }
    },

    async open(rawPath, openOptions = {}) {
      const path = normalizePath(rawPath);
      const requested = checkByteRange(openOptions, toUri(path));
      if (requested.offset === 0) return (await client.open(path, requested)).stream;
      // The namenode refuses an OPEN at or past the end of a non-empty file ("Offset=… out of the range"), but an
      // offset at the end reads nothing by our rule: a range not starting at 0 is checked against the size first.
      const status = await client.getFileStatus(path);
      if (status.type !== "FILE") throw invalid("is a directory, not a file", toUri(path));
      const range = checkByteRange(openOptions, toUri(path), status.length);
      return range.length === 0 ? Readable.from([]) : (await client.open(path, range)).stream;
    },

    async rm(path, rmOptions = {}) {
      const target = normalizePath(path);
      if (target === "/") throw invalid("refusing to remove the root directory", toUri(target));
      if (!(await client.delete(target, rmOptions.recursive ?? false))) {
        throw new StorageError("NOT_FOUND", "no such file or directory", { uri: toUri(target) });
      }
    },

    async rename(fromPath, toPath, renameOptions = {}) {
      const from = normalizePath(fromPath);
      const to = normalizePath(toPath);
      const source = await stat(from);
      if (from === to) return;
      if (source.type === "directory" && to.startsWith(`${from}/`)) {
        throw invalid(`cannot move ${toUri(from)} inside itself`, toUri(to));
      }
      const target = await statIfExists(to);
      if (target && !renameOptions.overwrite) {
        throw new StorageError("ALREADY_EXISTS", "already exists (pass overwrite to replace it)", {
          uri: toUri(to),
        });
      }
      // HDFS would move the source into an existing directory rather than replace it.
      if (target?.type === "directory")
        throw invalid("is a directory and cannot be replaced by a rename", toUri(to));
      if (target) await client.delete(to, false);
      else await mkdir(posix.dirname(to));
      await renameOrExplain(from, to);
    },
  };
}

/**
 * The `hdfs://`, `webhdfs://`, `swebhdfs://` (WebHDFS over HTTPS) and `viewfs://` schemes, as `resolveFileSystem`
 * loads them (reads `options.hdfs`).
 */
export const fileSystemPlugin = defineFileSystemPlugin({
  schemes: ["hdfs", "webhdfs", "swebhdfs", "viewfs"],
  async factory(uri, storageOptions) {
    if (uri.protocol === "viewfs:") return resolveViewFsUri(uri, storageOptions);
    const options = hdfsOptionsOf(storageOptions.hdfs, uri.href);
    const path = pathOfUri(uri);
    const hadoop = hadoopSettingsOnce();
    // hdfs:/// with a viewfs:// fs.defaultFS goes through its mount table.
    const viewFsDefault = options.namenodes?.length ? undefined : await viewFsDefaultFor(uri, hadoop);
    if (viewFsDefault) return resolveViewFsUri(uri, storageOptions, viewFsDefault, hadoop);
    const endpoint = await resolveEndpoint(uri, options, hadoop);
    const fromTokenFile = options.delegationToken
      ? undefined
      : await environmentCredentialsFor(uri, endpoint.namenodes, hadoop);
    const kerberos = await kerberosWanted(options, hadoop);
    return { fs: createHdfsFileSystem(endpoint, options, fromTokenFile, kerberos), path };
  },
});

/** A file system on explicit WebHDFS (or HttpFS) URLs; its URIs read `webhdfs://<first namenode>/path`. */
export function hdfsFileSystem(
  options: HdfsFileSystemOptions & { namenodes: readonly string[] },
): FileSystem {
  const validated = hdfsOptionsOf(options, "hdfsFileSystem");
  const first = validated.namenodes?.[0];
  if (!first)
    throw invalid('hdfsFileSystem needs at least one namenode URL (namenodes: ["http://nn1:9870"])');
  return createHdfsFileSystem(
    { scheme: "webhdfs", authority: new URL(first).host, namenodes: options.namenodes },
    options,
    options.delegationToken ? undefined : environmentCredentialsForUrls(options.namenodes),
    options.kerberos ?? Boolean(options.principal || options.keytab),
  );
}
