import { createHash, randomBytes } from "node:crypto";
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
  type NetworkPolicy,
  networkPolicyOf,
  openPutSource,
  type PutOptions,
  type PutSource,
  progressTap,
  StorageError,
  type StorageLog,
  type StoredChecksum,
  writeFileAtomically,
} from "@cluster-pack/fs";
import {
  type EnvironmentCredentials,
  environmentCredentialsFor,
  environmentCredentialsForUrls,
} from "./delegation-tokens.js";
import { comparableChecksum, SentBytes } from "./file-checksum.js";
import {
  defaultFileSystemOf,
  type HadoopSettings,
  hadoopSettingsOnce,
  webHdfsUrlsFor,
} from "./hadoop-config.js";
import { Spnego } from "./spnego.js";
import { normalizePath, pathOfUri } from "./uri-path.js";
import { resolveViewFsUri, viewFsDefaultFor } from "./viewfs.js";
import { type HdfsFileStatus, isRetriable, retriedRequest, WebHdfsClient } from "./webhdfs-client.js";

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
  /** Longest wait, in ms, for an answer or for the next chunk of data: overrides `network.stallTimeoutMs`. */
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

/** What the file system takes from `StorageOptions` beside `hdfs`: the network policy and the verbose log. */
interface HdfsRuntime {
  network?: NetworkPolicy | undefined;
  log?: StorageLog | undefined;
}

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
  fromTokenFile: EnvironmentCredentials | undefined,
  kerberos: boolean,
  runtime: HdfsRuntime,
): FileSystem {
  const prefix = `${endpoint.scheme}://${endpoint.authority}`;
  const toUri = (path: string) => `${prefix}${encodeURI(path).replace(/[?#]/g, encodeURIComponent)}`;
  const policy = {
    ...networkPolicyOf(runtime.network),
    ...(options.timeoutMs !== undefined && { stallTimeoutMs: options.timeoutMs }),
  };
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
    policy,
    log: runtime.log,
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

  /**
   * The atomic RENAME (`renameoptions`): with `overwrite` an existing target file is replaced in one namenode
   * step, without it an existing target fails the rename (ALREADY_EXISTS) and nothing changes. HttpFS ignores
   * `renameoptions` (its RENAME takes only a destination) and answers a bare `false` for a taken target: there,
   * and only there, replacing means deleting the target right before the rename, which is logged.
   */
  const renameAtomically = async (from: string, to: string, overwrite: boolean) => {
    if (await client.renameAtomically(from, to, overwrite)) return;
    const [source, target, parent] = await Promise.all([
      statIfExists(from),
      statIfExists(to),
      statIfExists(posix.dirname(to)),
    ]);
    if (!source) throw new StorageError("NOT_FOUND", "no such file or directory", { uri: toUri(from) });
    if (target && overwrite && target.type === "file") {
      runtime.log?.(
        `the namenode ignored renameoptions=OVERWRITE (HttpFS does): deleting ${toUri(to)} right before renaming`,
      );
      await client.delete(to, false);
      if (await client.renameAtomically(from, to, overwrite)) return;
    }
    if (target) throw new StorageError("ALREADY_EXISTS", "already exists", { uri: toUri(to) });
    if (!parent) throw new StorageError("NOT_FOUND", "parent directory does not exist", { uri: toUri(to) });
    if (parent.type !== "directory") throw invalid("parent is a file, not a directory", toUri(to));
    const detail = `the namenode refused to rename ${toUri(from)} (RENAME answered false)`;
    throw new StorageError("UNKNOWN", detail, { uri: toUri(to) });
  };

  /** The SHA-256 of a stored file, read back. */
  const sha256Of = async (path: string) => {
    const { stream } = await client.open(path, {});
    const hash = createHash("sha256");
    for await (const chunk of stream) hash.update(chunk as Uint8Array);
    return hash.digest("hex");
  };

  /** The stored bytes did not match what was sent: TRANSIENT, since sending them again may well work. */
  const differs = (path: string, how: string) =>
    new StorageError("TRANSIENT", `the stored bytes differ from those sent (${how}): nothing was replaced`, {
      uri: toUri(path),
    });

  /**
   * Checks the uploaded temporary file against what was sent, before anything replaces the target: HDFS's own
   * MD5-of-MD5-of-CRC32C when the cluster computes that one (the default), else a read back and a SHA-256.
   */
  const verifyStored = async (temporary: string, path: string, sent: SentBytes, sha256: string) => {
    const status = await client.getFileStatus(temporary);
    if (status.length !== sent.length)
      throw differs(path, `${status.length} bytes stored, ${sent.length} sent`);
    const stored = await client.getFileChecksum(temporary).catch((error: unknown) => {
      // A server without GETFILECHECKSUM (a gateway, an old release) is checked by reading the bytes back.
      if (isStorageError(error, "INVALID_ARGUMENT") || isStorageError(error, "UNKNOWN")) return undefined;
      throw error;
    });
    const expected = stored && comparableChecksum(stored, sent, status.blockSize ?? 0);
    if (stored && expected) {
      const storedMd5 = stored.bytes.toLowerCase().slice(24);
      if (stored.bytes.toLowerCase() !== expected.bytes)
        throw differs(path, `checksum ${stored.algorithm}: ${storedMd5} stored, ${expected.md5} sent`);
      return { algorithm: stored.algorithm, value: expected.md5 } satisfies StoredChecksum;
    }
    const read = await sha256Of(temporary);
    if (read !== sha256) throw differs(path, `sha256 read back: ${read} stored, ${sha256} sent`);
    return { algorithm: "sha256", value: read } satisfies StoredChecksum;
  };

  /** The request went out and its answer never came: the namenode may have acted on it. */
  const answerLost = (error: unknown) => isRetriable(error, true) && !isRetriable(error, false);

  /**
   * After a RENAME whose answer was lost: whether it happened anyway, i.e. the temporary file is gone and the
   * target holds what was verified (its checksum, or its bytes read back).
   */
  const landedAnyway = async (temporary: string, path: string, verified: StoredChecksum) => {
    try {
      if (await statIfExists(temporary)) return false;
      if (verified.algorithm !== "sha256") {
        const stored = await client.getFileChecksum(path);
        return (
          stored.algorithm === verified.algorithm && stored.bytes.toLowerCase().slice(24) === verified.value
        );
      }
      return (await sha256Of(path)) === verified.value;
    } catch {
      return false;
    }
  };

  /** A hidden name beside the target (Hadoop's input formats skip dot files), like `hdfs dfs -put`'s copies. */
  const temporaryFor = (path: string) =>
    childOf(posix.dirname(path), `.${posix.basename(path)}.${randomBytes(6).toString("hex")}._COPYING_`);

  /** Failures of the source itself (a local file that cannot be read, a failing stream): never retried. */
  const sourceFailures = new WeakSet<object>();

  /**
   * One upload of `source` to a new temporary file, checked against what was sent. On failure the temporary
   * file is removed and the error says what went wrong (the source's own failure first).
   */
  const uploadOnce = async (
    source: PutSource,
    path: string,
    putOptions: PutOptions,
    temporaries: string[],
  ) => {
    const temporary = temporaryFor(path);
    temporaries.push(temporary);
    const opened = await openPutSource(source, putOptions.size);
    let sourceFailure: StorageError | undefined;
    const sent = new SentBytes();
    // A failing source is blamed on the source: the local file, or the stream's own StorageError.
    async function* watched(chunks: AsyncIterable<Uint8Array>) {
      try {
        for await (const chunk of chunks) {
          sent.update(chunk);
          yield chunk;
        }
      } catch (error) {
        sourceFailure =
          typeof source === "string" ? fromSystemError(error, source) : streamFailure(error, path);
        sourceFailures.add(sourceFailure);
        throw error;
      }
    }
    try {
      const body = pipeline(opened.stream, progressTap(putOptions.onProgress, opened.size), () => undefined);
      await client.create(temporary, watched(body), { overwrite: false }, putOptions.signal);
      const { sha256 } = sent.finish();
      return { temporary, verified: await verifyStored(temporary, path, sent, sha256) };
    } catch (error) {
      await client.delete(temporary, false).catch(() => undefined);
      throw sourceFailure ?? error;
    } finally {
      opened.stream.destroy();
    }
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
      const temporaries: string[] = [];
      try {
        const existing = await statIfExists(path);
        if (existing?.type === "directory")
          throw invalid("is a directory; give the path of a file", toUri(path));
        const overwrite = putOptions.overwrite !== false;
        if (existing && !overwrite) {
          throw new StorageError("ALREADY_EXISTS", "already exists (overwrite is off)", { uri: toUri(path) });
        }
        if (!existing) await mkdir(directory);
        const upload = () => uploadOnce(source, path, putOptions, temporaries);
        // A local file can be read again, so a broken or corrupted upload is sent once more; a stream cannot.
        const { temporary, verified } =
          typeof source === "string"
            ? await retriedRequest(
                upload,
                {
                  policy,
                  isRetriable: (error) => isStorageError(error, "TRANSIENT") && !sourceFailures.has(error),
                  what: `the upload of ${toUri(path)}`,
                  log: runtime.log,
                  signal: putOptions.signal,
                },
                toUri(path),
              )
            : await upload();
        try {
          await putOptions.beforeCommit?.();
          // One namenode step replaces the target (or, without overwrite, fails if it appeared meanwhile).
          await renameAtomically(temporary, path, overwrite).catch(async (error: unknown) => {
            if (!overwrite && isStorageError(error, "ALREADY_EXISTS"))
              throw new StorageError("ALREADY_EXISTS", "already exists (overwrite is off)", {
                uri: toUri(path),
              });
            if (!answerLost(error) || !(await landedAnyway(temporary, path, verified))) throw error;
            runtime.log?.(`the answer to RENAME was lost, but ${toUri(path)} holds the bytes sent`);
          });
        } catch (error) {
          await client.delete(temporary, false).catch(() => undefined);
          throw error;
        }
        return { verified };
      } catch (error) {
        // The parent directory and the temporary files are steps of writing the target, which the user named.
        const stepUris = [toUri(directory), ...temporaries.map(toUri)];
        if (
          error instanceof StorageError &&
          error.location !== undefined &&
          stepUris.includes(error.location)
        ) {
          throw new StorageError(error.code, error.detail, { uri: toUri(path), cause: error.cause });
        }
        throw error;
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
      const overwrite = renameOptions.overwrite ?? false;
      const taken = () =>
        new StorageError("ALREADY_EXISTS", "already exists (pass overwrite to replace it)", {
          uri: toUri(to),
        });
      if (target && !overwrite) throw taken();
      // HDFS would move the source into an existing directory rather than replace it.
      if (target?.type === "directory")
        throw invalid("is a directory and cannot be replaced by a rename", toUri(to));
      if (!target) await mkdir(posix.dirname(to));
      await renameAtomically(from, to, overwrite).catch((error: unknown) => {
        // A target that appeared since the check: the rename failed as a whole.
        if (!overwrite && isStorageError(error, "ALREADY_EXISTS")) throw taken();
        throw error;
      });
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
    const runtime = { network: storageOptions.network, log: storageOptions.log };
    return { fs: createHdfsFileSystem(endpoint, options, fromTokenFile, kerberos, runtime), path };
  },
});

/**
 * A file system on explicit WebHDFS (or HttpFS) URLs; its URIs read `webhdfs://<first namenode>/path`. `network`
 * and `log` are those `resolveFileSystem` passes to every adapter (timeouts and retries, the verbose log).
 */
export function hdfsFileSystem(
  options: HdfsFileSystemOptions & { namenodes: readonly string[] } & HdfsRuntime,
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
    { network: options.network, log: options.log },
  );
}
