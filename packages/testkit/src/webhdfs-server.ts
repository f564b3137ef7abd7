/**
 * A WebHDFS server for tests, following Hadoop's "WebHDFS REST API" documentation: a namenode that answers
 * metadata operations and redirects data operations (307, or 200 {"Location"} with noredirect=true) to a
 * datanode on another port; RemoteException JSON errors with the documented HTTP status per class; HDFS
 * permissions; optionally an HA standby, an HttpFS gateway, or a cluster that demands delegation tokens.
 * File bytes are streamed to and from a temporary directory, so multi-GiB transfers stay out of memory.
 */

import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import { type IssuedDelegationToken, secretManagerFor } from "./hadoop-tokens.js";
import { HdfsNamespace, type SeedDirectory } from "./webhdfs-namespace.js";
import { RemoteException } from "./webhdfs-remote-exception.js";

export type { HdfsFileStatus, SeedDirectory } from "./webhdfs-namespace.js";
export { HdfsNamespace } from "./webhdfs-namespace.js";

export interface WebHdfsServerOptions {
  /** The namenode's own user, allowed everything (default "hdfs"). */
  superuser?: string;
  /** Members of this group are superusers too (dfs.permissions.superusergroup, default "supergroup"). */
  supergroup?: string;
  /** Groups of each user, for group permission bits. */
  groups?: Record<string, readonly string[]>;
  /** Directories to create at start, beside the default `/tmp` (1777) and `/user` (755). */
  directories?: readonly SeedDirectory[];
  /** Users allowed to act for others with `doas` (hadoop.proxyuser.<user>.*). */
  proxyUsers?: readonly string[];
  /** Entries per LISTSTATUS_BATCH page (dfs.ls.limit, default 1000). */
  listPageSize?: number;
  /** Set false to act as a release without LISTSTATUS_BATCH (before Hadoop 2.8): the op is unknown. */
  listStatusBatch?: boolean;
  /** Set false to act as a release that ignores `noredirect` and always answers 307. */
  noredirect?: boolean;
  /** Start as an HA standby namenode: every operation fails with StandbyException. */
  standby?: boolean;
  /** Act as an HttpFS gateway: no datanode; data goes to the same port with data=true. */
  httpfs?: boolean;
  /**
   * Demand a delegation token (token → user it authenticates); user.name alone gets 401. Tokens from
   * `issueDelegationToken` are accepted too (pass `{}` to accept only those).
   */
  delegationTokens?: Record<string, string>;
  /**
   * Secure mode (hadoop.security.authentication=kerberos): the namenode accepts only SPNEGO (`Authorization:
   * Negotiate`, checked with the `kerberos` package against `keytab`, which KRB5_KTNAME is set to), its
   * `hadoop.auth` cookie, or a delegation token it issued; anything else gets 401 `WWW-Authenticate: Negotiate`.
   * `user.name` is ignored; the datanode redirect carries a `delegation=` token for the authenticated user.
   * `servicePrincipal` (`HTTP@localhost`) narrows the acceptor; by default any principal of the keytab is.
   */
  kerberos?: { keytab: string; servicePrincipal?: string };
  /** Serve the namespace of another server: an HA pair over one file system. */
  shareNamespaceWith?: WebHdfsServer;
  /**
   * Serve HTTPS (dfs.http.policy=HTTPS_ONLY): the namenode and the datanode both speak TLS with this PEM key and
   * certificate (see `makeTestCertificates`); every URL the server hands out is https.
   */
  https?: { key: string; cert: string };
  /** Block size of new files (dfs.blocksize, default 128 MiB), reported as `blockSize` and used by checksums. */
  blockSize?: number;
  /** Bytes covered by each CRC (dfs.bytes-per-checksum, default 512). */
  bytesPerChecksum?: number;
  /** The CRC datanodes keep of each chunk (dfs.checksum.type, default CRC32C). */
  checksumType?: ChecksumType;
}

export type ChecksumType = "CRC32C" | "CRC32";

/** One request the server received, for tests that check the protocol the client spoke. */
export interface WebHdfsRequest {
  role: "namenode" | "datanode";
  method: string;
  op: string;
  path: string;
  params: Record<string, string>;
  /** Whether the request carried a body (a Content-Length above 0 or a chunked body). */
  hasBody: boolean;
  /** Secure mode: how the request authenticated (an `Authorization: Negotiate` header, the cookie, a token). */
  auth?: "negotiate" | "cookie" | "delegation" | "none";
}

export interface WebHdfsServer {
  /** `http://127.0.0.1:<port>` (https with `https`): the namenode's HTTP address (or the HttpFS gateway's). */
  namenodeUrl: string;
  /** The datanode's HTTP address; the namenode's own in HttpFS mode. */
  datanodeUrl: string;
  /** `127.0.0.1:<port>` of the namenode, as hdfs-site.xml would name it. */
  namenodeAddress: string;
  namespace: HdfsNamespace;
  /** Every request so far, oldest first. */
  requests: WebHdfsRequest[];
  clearRequests(): void;
  /** Turns this namenode into an HA standby (true) or back into the active one (false). */
  setStandby(standby: boolean): void;
  /**
   * A real Hadoop delegation token for `user` (kind HDFS_DELEGATION_TOKEN unless given), accepted in
   * `delegation=` when the server demands tokens; `service` is only written into the token.
   */
  issueDelegationToken(user: string, service: string, kind?: string): IssuedDelegationToken;
  /** Secure mode: forgets every `hadoop.auth` cookie it set, as when their validity ends (a 401 next time). */
  expireAuthCookies(): void;
  stop(): Promise<void>;
}

const CRC32C_TABLE = Uint32Array.from({ length: 256 }, (_, byte) => {
  let crc = byte;
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  return crc >>> 0;
});

/** CRC-32C (Castagnoli) of `bytes` continuing from `crc`, byte by byte: what datanodes store per chunk by default. */
function crc32c(bytes: Uint8Array, crc = 0): number {
  let state = ~crc;
  for (let i = 0; i < bytes.length; i++)
    state = (CRC32C_TABLE[(state ^ (bytes[i] as number)) & 0xff] as number) ^ (state >>> 8);
  return ~state >>> 0;
}

/** The JSON `FileChecksum` of WebHDFS (JsonUtil.toJsonString of an MD5MD5CRC32FileChecksum). */
export interface WebHdfsFileChecksum {
  algorithm: string;
  /** Hex of: int32 bytesPerCRC, int64 crcPerBlock, the 16-byte MD5 (big-endian, as Writable writes them). */
  bytes: string;
  length: number;
}

/** The MD5 of a DataOutputBuffer's whole array, as MD5Hash.digest(buffer.getData()) takes it: its unused tail of
 * zeros included (the array starts at 32 bytes and doubles). */
function md5OfGrowingBuffer(content: Buffer): Buffer {
  let capacity = 32;
  while (capacity < content.length) capacity *= 2;
  const array = Buffer.alloc(capacity);
  content.copy(array);
  return createHash("md5").update(array).digest();
}

function checksumJson(algorithm: string, bytesPerCrc: number, crcPerBlock: number, md5: Buffer) {
  const bytes = Buffer.alloc(12);
  bytes.writeInt32BE(bytesPerCrc, 0);
  bytes.writeBigInt64BE(BigInt(crcPerBlock), 4);
  return { algorithm, bytes: Buffer.concat([bytes, md5]).toString("hex"), length: 28 };
}

/**
 * GETFILECHECKSUM of a replicated file as HDFS computes it (FileChecksumHelper, BlockChecksumHelper): each block's
 * MD5 over the 4-byte big-endian CRCs of its `bytesPerCrc` chunks (the last one partial), then the MD5 of those
 * MD5s. crcPerBlock is the first block's CRC count when the file has more than one block, else 0; an empty file
 * gets HDFS's fixed answer for no blocks.
 */
async function fileChecksumOf(
  blob: string,
  length: number,
  blockSize: number,
  bytesPerCrc: number,
  type: ChecksumType,
): Promise<WebHdfsFileChecksum> {
  if (length === 0) return checksumJson("MD5-of-0MD5-of-0CRC32", 0, 0, md5OfGrowingBuffer(Buffer.alloc(0)));
  const update = type === "CRC32C" ? crc32c : (bytes: Uint8Array, crc: number) => crc32(bytes, crc) >>> 0;
  const blockMd5s: Buffer[] = [];
  let block = createHash("md5");
  let inBlock = 0;
  let crc = 0;
  let inChunk = 0;
  const endChunk = () => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(crc);
    block.update(bytes);
    crc = 0;
    inChunk = 0;
    if (inBlock === blockSize) {
      blockMd5s.push(block.digest());
      block = createHash("md5");
      inBlock = 0;
    }
  };
  for await (const piece of createReadStream(blob, { end: length - 1 })) {
    let rest = piece as Buffer;
    while (rest.length > 0) {
      // A chunk ends at bytesPerCrc bytes or at the end of its block, whichever comes first.
      const take = Math.min(rest.length, bytesPerCrc - inChunk, blockSize - inBlock);
      crc = update(rest.subarray(0, take), crc);
      inChunk += take;
      inBlock += take;
      rest = rest.subarray(take);
      if (inChunk === bytesPerCrc || inBlock === blockSize) endChunk();
    }
  }
  if (inChunk > 0) endChunk();
  if (inBlock > 0) blockMd5s.push(block.digest());
  const crcPerBlock = blockMd5s.length > 1 ? Math.ceil(blockSize / bytesPerCrc) : 0;
  const algorithm = `MD5-of-${crcPerBlock}MD5-of-${bytesPerCrc}${type}`;
  return checksumJson(algorithm, bytesPerCrc, crcPerBlock, md5OfGrowingBuffer(Buffer.concat(blockMd5s)));
}

/** `renameoptions` of RENAME: a comma-separated set of Options.Rename (NONE, OVERWRITE, TO_TRASH), any case. */
function renameOptionsParam(query: URLSearchParams): Set<string> | undefined {
  const value = query.get("renameoptions");
  if (value === null || value === "") return undefined;
  const names = value.split(",").map((name) => name.trim().toUpperCase());
  const unknown = names.find((name) => !["NONE", "OVERWRITE", "TO_TRASH"].includes(name));
  if (unknown !== undefined) {
    throw new RemoteException(
      "IllegalArgumentException",
      `Invalid value for webhdfs parameter "renameoptions": No enum constant org.apache.hadoop.fs.Options.Rename.${unknown}`,
    );
  }
  return new Set(names);
}

const API_PREFIX = "/webhdfs/v1";
const USER_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9._-]*[$]?$/;
const opParamClass: Record<string, string> = {
  GET: "GetOpParam",
  PUT: "PutOpParam",
  POST: "PostOpParam",
  DELETE: "DeleteOpParam",
};

/** A request without valid credentials on a secured cluster: the SPNEGO filter answers 401 before WebHDFS. */
class AuthenticationRequired extends Error {}

interface ParsedRequest extends WebHdfsRequest {
  query: URLSearchParams;
  /** Secure mode: the short name of the user SPNEGO or the cookie authenticated. */
  principalUser?: string;
}

function parseRequest(req: IncomingMessage, role: WebHdfsRequest["role"]): ParsedRequest | undefined {
  const url = new URL(req.url ?? "/", "http://server");
  if (url.pathname !== API_PREFIX && !url.pathname.startsWith(`${API_PREFIX}/`)) return undefined;
  const path = decodeURIComponent(url.pathname.slice(API_PREFIX.length)) || "/";
  const length = Number(req.headers["content-length"] ?? 0);
  return {
    role,
    method: req.method ?? "GET",
    // Hadoop upper-cases the op before looking it up.
    op: (url.searchParams.get("op") ?? "").toUpperCase(),
    path,
    params: Object.fromEntries(url.searchParams),
    hasBody: length > 0 || req.headers["transfer-encoding"] !== undefined,
    query: url.searchParams,
  };
}

function booleanParam(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name);
  if (value === null || value === "") return fallback;
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  throw new RemoteException(
    "IllegalArgumentException",
    `Invalid value for webhdfs parameter "${name}": ${value}`,
  );
}

function numberParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  if (!/^\d+$/.test(value)) {
    throw new RemoteException(
      "IllegalArgumentException",
      `Invalid value for webhdfs parameter "${name}": ${value}`,
    );
  }
  return Number(value);
}

function permissionParam(query: URLSearchParams, fallback: number): number {
  const value = query.get("permission");
  if (value === null || value === "") return fallback;
  if (!/^[01]?[0-7]{1,3}$/.test(value)) {
    throw new RemoteException(
      "IllegalArgumentException",
      `Invalid value for webhdfs parameter "permission": ${value}`,
    );
  }
  return Number.parseInt(value, 8);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
  } else if (error instanceof AuthenticationRequired) {
    res.writeHead(401, { "WWW-Authenticate": "Negotiate", "Content-Type": "text/html" });
    res.end("<html><body><h2>HTTP ERROR 401</h2><p>Authentication required</p></body></html>");
  } else if (error instanceof RemoteException) {
    sendJson(res, error.status, error.toJSON());
  } else {
    sendJson(res, 500, new RemoteException("RuntimeException", String(error)).toJSON());
  }
}

const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startWebHdfsServer(options: WebHdfsServerOptions = {}): Promise<WebHdfsServer> {
  const shared = options.shareNamespaceWith?.namespace;
  const namespace =
    shared ??
    (await HdfsNamespace.create(
      {
        superuser: options.superuser ?? "hdfs",
        supergroup: options.supergroup ?? "supergroup",
        groups: options.groups ?? {},
        ...(options.blockSize !== undefined && { blockSize: options.blockSize }),
      },
      options.directories ?? [],
    ));
  const requests: WebHdfsRequest[] = [];
  let standby = options.standby ?? false;
  let namenodeAddress = "";
  let datanodeUrl = "";
  const protocol = options.https ? "https" : "http";

  const record = (request: ParsedRequest) => {
    const { query: _query, principalUser: _user, ...logged } = request;
    requests.push(logged);
  };

  const secure = options.kerberos;
  if (secure) process.env.KRB5_KTNAME = `FILE:${secure.keytab.replace(/^FILE:/, "")}`;
  let kerberosModule: Promise<typeof import("kerberos")> | undefined;
  /** hadoop.auth cookie value → short user name. */
  const cookies = new Map<string, string>();
  const cookieOf = (req: IncomingMessage) =>
    /(?:^|;\s*)hadoop\.auth="?([^";]+)"?/.exec(req.headers.cookie ?? "")?.[1];

  /**
   * Secure mode, before WebHDFS: the AuthenticationFilter. A delegation token passes through (checked by
   * `authenticate`); a known cookie or a good SPNEGO exchange names the user; anything else is a 401.
   */
  const authenticationFilter = async (req: IncomingMessage, res: ServerResponse, request: ParsedRequest) => {
    if (!secure) return;
    if (request.query.get("delegation")) {
      request.auth = "delegation";
      return;
    }
    const cookie = cookieOf(req);
    const known = cookie && cookies.get(cookie);
    if (known) {
      request.auth = "cookie";
      request.principalUser = known;
      return;
    }
    const header = req.headers.authorization ?? "";
    const match = /^Negotiate\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      request.auth = "none";
      throw new AuthenticationRequired();
    }
    request.auth = "negotiate";
    kerberosModule ??= import("kerberos");
    const kerberos = await kerberosModule;
    const server = await kerberos.initializeServer(secure.servicePrincipal ?? "");
    try {
      await server.step(match[1]);
    } catch {
      throw new AuthenticationRequired();
    }
    const user = server.username.split("@")[0] ?? server.username;
    const value = randomBytes(18).toString("base64url");
    cookies.set(value, user);
    request.principalUser = user;
    res.setHeader("Set-Cookie", `hadoop.auth="${value}"; Path=/; HttpOnly`);
    if (server.response) res.setHeader("WWW-Authenticate", `Negotiate ${server.response}`);
  };

  /** The user a request acts as: the token's owner or `user.name`, then `doas` if the caller may impersonate. */
  const authenticate = (query: URLSearchParams, principalUser?: string): string => {
    let user: string;
    if (principalUser) {
      user = principalUser;
    } else if (options.delegationTokens || secure) {
      const token = query.get("delegation");
      if (!token) throw new AuthenticationRequired();
      const owner = options.delegationTokens?.[token] ?? secretManagerFor(namespace).ownerOf(token);
      if (!owner) throw new RemoteException("InvalidToken", "token is expired or doesn't exist");
      user = owner;
    } else {
      // Without security, a request without user.name runs as the static web user (hadoop.http.staticuser.user).
      user = query.get("user.name") ?? "dr.who";
      if (!USER_NAME_PATTERN.test(user)) {
        throw new RemoteException(
          "IllegalArgumentException",
          `Invalid value for webhdfs parameter "user.name": ${user}`,
        );
      }
    }
    const doAs = query.get("doas");
    if (!doAs || doAs === user) return user;
    if (!options.proxyUsers?.includes(user)) {
      throw new RemoteException(
        "AuthorizationException",
        `User: ${user} is not allowed to impersonate ${doAs}`,
      );
    }
    return doAs;
  };

  const unknownOp = (request: ParsedRequest) =>
    new RemoteException(
      "IllegalArgumentException",
      `Invalid value for webhdfs parameter "op": No enum constant org.apache.hadoop.hdfs.web.resources.${opParamClass[request.method] ?? "GetOpParam"}.Op.${request.op || "null"}`,
    );

  /** Answers with where the data goes: 307 + Location, or 200 {"Location"} when the client asked noredirect=true. */
  const redirect = (res: ServerResponse, request: ParsedRequest, target: URL) => {
    if (booleanParam(request.query, "noredirect", false) && options.noredirect !== false) {
      sendJson(res, 200, { Location: target.href });
      return;
    }
    res.writeHead(307, {
      Location: target.href,
      "Content-Type": "application/octet-stream",
      "Content-Length": 0,
    });
    res.end();
  };

  const dataLocation = (base: string, request: ParsedRequest, extra: Record<string, string>) => {
    const target = new URL(`${base}${API_PREFIX}${encodePath(request.path)}`);
    for (const [name, value] of request.query)
      if (name !== "noredirect") target.searchParams.set(name, value);
    for (const [name, value] of Object.entries(extra)) target.searchParams.set(name, value);
    return target;
  };

  const receiveFile = async (
    req: IncomingMessage,
    res: ServerResponse,
    request: ParsedRequest,
    user: string,
  ) => {
    const file = namespace.create(user, request.path, {
      overwrite: booleanParam(request.query, "overwrite", true),
      permission: permissionParam(request.query, 0o644),
      blockSize: numberParam(request.query, "blocksize") || undefined,
    });
    let length = 0;
    try {
      await pipeline(
        req,
        async function* count(source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            length += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(file.blob),
      );
    } finally {
      // Like HDFS, an interrupted write leaves the file with the bytes that arrived.
      file.length = length;
      file.modificationTime = Date.now();
    }
    res.writeHead(201, {
      Location: `hdfs://${namenodeAddress}${encodePath(request.path)}`,
      "Content-Length": 0,
    });
    res.end();
  };

  const sendFile = async (res: ServerResponse, request: ParsedRequest, user: string) => {
    const file = namespace.openForRead(user, request.path);
    const offset = numberParam(request.query, "offset") ?? 0;
    if (offset > file.length) throw new RemoteException("IOException", "Cannot seek after EOF");
    const count = Math.min(
      numberParam(request.query, "length") ?? Number.POSITIVE_INFINITY,
      file.length - offset,
    );
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": count });
    if (count === 0) {
      res.end();
      return;
    }
    await pipeline(createReadStream(file.blob, { start: offset, end: offset + count - 1 }), res);
  };

  const sendFileChecksum = async (res: ServerResponse, request: ParsedRequest, user: string) => {
    const file = namespace.openForRead(user, request.path);
    const checksum = await fileChecksumOf(
      file.blob,
      file.length,
      file.blockSize,
      options.bytesPerChecksum ?? 512,
      options.checksumType ?? "CRC32C",
    );
    sendJson(res, 200, { FileChecksum: checksum });
  };

  const serveNamenode = async (req: IncomingMessage, res: ServerResponse, request: ParsedRequest) => {
    if (standby) {
      const category = request.method === "GET" ? "READ" : "WRITE";
      throw new RemoteException(
        "StandbyException",
        `Operation category ${category} is not supported in state standby. Visit https://s.apache.org/sbnn-error`,
      );
    }
    const { query, path } = request;
    if (options.httpfs && request.op === "CREATE" && booleanParam(query, "data", false)) {
      // HttpFS's upload filter checks the content type before anything else.
      if (req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase() !== "application/octet-stream") {
        res.writeHead(400, { "Content-Type": "text/plain" });
        res.end("Data upload requests must have content-type set to 'application/octet-stream'");
        return;
      }
      await receiveFile(req, res, request, authenticate(query, request.principalUser));
      return;
    }
    const user = authenticate(query, request.principalUser);
    /** Where data goes; in secure mode with a token for the user, as Hadoop's namenode adds it. */
    const dataAt = (base: string, extra: Record<string, string>) =>
      dataLocation(base, request, {
        ...extra,
        ...(secure && !query.get("delegation")
          ? { delegation: secretManagerFor(namespace).issue(user, namenodeAddress).urlString }
          : {}),
      });
    switch (`${request.method} ${request.op}`) {
      case "GET GETFILESTATUS":
        return sendJson(res, 200, { FileStatus: namespace.getFileStatus(user, path) });
      case "GET LISTSTATUS": {
        const { statuses } = namespace.listStatus(user, path);
        return sendJson(res, 200, { FileStatuses: { FileStatus: statuses } });
      }
      case "GET LISTSTATUS_BATCH": {
        if (options.listStatusBatch === false) throw unknownOp(request);
        const page = namespace.listStatus(
          user,
          path,
          query.get("startAfter") ?? "",
          options.listPageSize ?? 1000,
        );
        return sendJson(res, 200, {
          DirectoryListing: {
            partialListing: { FileStatuses: { FileStatus: page.statuses } },
            remainingEntries: page.remainingEntries,
          },
        });
      }
      case "GET GETHOMEDIRECTORY":
        return sendJson(res, 200, { Path: namespace.homeDirectory(user) });
      case "GET OPEN":
        if (options.httpfs) return sendFile(res, request, user);
        // The namenode looks up the blocks (so a missing file fails here) and sends the reader to a datanode.
        namespace.openForRead(user, path);
        return redirect(res, request, dataAt(datanodeUrl, { namenoderpcaddress: namenodeAddress }));
      case "GET GETFILECHECKSUM":
        if (options.httpfs) return sendFileChecksum(res, request, user);
        // Like OPEN: the namenode checks the path and a datanode computes the checksum from the block CRCs.
        namespace.openForRead(user, path);
        return redirect(res, request, dataAt(datanodeUrl, { namenoderpcaddress: namenodeAddress }));
      case "PUT CREATE":
        // Strict on purpose: the documented protocol sends no data to the namenode ("Create and Write to a File").
        if (request.hasBody) {
          throw new RemoteException(
            "IllegalArgumentException",
            "the namenode takes no data: send the file to the datanode named by the 307 Location",
          );
        }
        if (options.httpfs)
          return redirect(res, request, dataAt(`${protocol}://${namenodeAddress}`, { data: "true" }));
        // Like Hadoop, the namenode only picks a datanode; the file is created when the datanode receives it.
        return redirect(res, request, dataAt(datanodeUrl, { namenoderpcaddress: namenodeAddress }));
      case "PUT MKDIRS":
        return sendJson(res, 200, { boolean: namespace.mkdirs(user, path, permissionParam(query, 0o755)) });
      case "PUT RENAME": {
        const destination = query.get("destination");
        if (!destination) {
          throw new RemoteException(
            "IllegalArgumentException",
            "Required param destination for op: RENAME is null or empty",
          );
        }
        // HttpFS's RENAME takes only a destination (HttpFSParametersProvider): renameoptions go unread.
        const renameOptions = options.httpfs ? undefined : renameOptionsParam(query);
        if (!renameOptions) return sendJson(res, 200, { boolean: namespace.rename(user, path, destination) });
        // With options, Hadoop calls rename2: failures are exceptions and success is an empty 200.
        await namespace.renameWithOptions(user, path, destination, renameOptions.has("OVERWRITE"));
        res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": 0 });
        res.end();
        return;
      }
      case "DELETE DELETE":
        return sendJson(res, 200, {
          boolean: await namespace.delete(user, path, booleanParam(query, "recursive", false)),
        });
      default:
        throw unknownOp(request);
    }
  };

  const serveDatanode = async (req: IncomingMessage, res: ServerResponse, request: ParsedRequest) => {
    if (request.query.get("namenoderpcaddress") !== namenodeAddress) {
      throw new RemoteException("IllegalArgumentException", "namenoderpcaddress is not specified.");
    }
    const user = authenticate(request.query);
    if (request.method === "PUT" && request.op === "CREATE") return receiveFile(req, res, request, user);
    if (request.method === "GET" && request.op === "OPEN") return sendFile(res, request, user);
    if (request.method === "GET" && request.op === "GETFILECHECKSUM")
      return sendFileChecksum(res, request, user);
    throw new RemoteException("IllegalArgumentException", `Invalid operation ${request.op}`);
  };

  const handler =
    (role: WebHdfsRequest["role"], serve: typeof serveNamenode) =>
    (req: IncomingMessage, res: ServerResponse) => {
      const request = parseRequest(req, role);
      if (!request) {
        res.writeHead(404, { "Content-Type": "text/plain" });
        res.end("Not Found");
        return;
      }
      const filtered = role === "namenode" ? authenticationFilter(req, res, request) : Promise.resolve();
      let recorded = false;
      filtered
        .then(() => {
          recorded = true;
          record(request);
          return serve(req, res, request);
        })
        .catch((error: unknown) => {
          if (!recorded) record(request);
          sendError(res, error);
        });
    };

  const tls = options.https;
  const serve = (listener: (req: IncomingMessage, res: ServerResponse) => void): Server =>
    tls ? createTlsServer({ key: tls.key, cert: tls.cert }, listener) : createServer(listener);
  const namenode = serve(handler("namenode", serveNamenode));
  const namenodePort = await listen(namenode);
  namenodeAddress = `127.0.0.1:${namenodePort}`;
  const datanode = options.httpfs ? undefined : serve(handler("datanode", serveDatanode));
  datanodeUrl = datanode
    ? `${protocol}://127.0.0.1:${await listen(datanode)}`
    : `${protocol}://${namenodeAddress}`;

  return {
    namenodeUrl: `${protocol}://${namenodeAddress}`,
    datanodeUrl,
    namenodeAddress,
    namespace,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    setStandby: (state) => {
      standby = state;
    },
    issueDelegationToken: (user, service, kind) => secretManagerFor(namespace).issue(user, service, kind),
    expireAuthCookies: () => cookies.clear(),
    async stop() {
      await Promise.all([close(namenode), datanode ? close(datanode) : undefined]);
      if (!shared) await namespace.dispose();
    },
  };
}
