import { Readable } from "node:stream";
import {
  type ByteRange,
  isStorageError,
  type NetworkPolicy,
  type RetryOptions,
  StorageError,
  type StorageLog,
  withRetries,
} from "@cluster-pack/fs";
import {
  connectionReasonOf,
  type ErrorContext,
  fromHttpStatus,
  fromRemoteException,
  fromTransportError,
  isUnreachable,
  parseRemoteException,
  RemoteException,
} from "./errors.js";
import type { WebHdfsFileChecksum } from "./file-checksum.js";
import type { Spnego, SpnegoAttempt } from "./spnego.js";
import {
  agentClass,
  agentOptions,
  certificateError,
  certificateFailureOf,
  type TlsTrust,
  tlsTrust,
} from "./tls-trust.js";

/** The fields of a WebHDFS FileStatus object that we read. */
export interface HdfsFileStatus {
  pathSuffix: string;
  type: "FILE" | "DIRECTORY" | "SYMLINK";
  length: number;
  modificationTime: number;
  /** Octal, as text: "644", "1777". */
  permission: string;
  /** Bytes per block of a file (0 for a directory). */
  blockSize?: number;
}

export interface WebHdfsClientOptions {
  /** Base URLs (`http://nn1:9870`, or an HttpFS or gateway URL), tried in order for HA. */
  namenodes: readonly string[];
  user: string | undefined;
  doAs: string | undefined;
  delegationToken: string | undefined;
  /** More secrets (every token of $HADOOP_TOKEN_FILE_LOCATION) to remove from server text. */
  secrets?: readonly string[];
  /** Added to a 401 when the token file had no token for this namenode. */
  missingTokenHint?: string | undefined;
  /** Kerberos is on: every request to a namenode or gateway authenticates with SPNEGO (or its cookie). */
  spnego?: Spnego | undefined;
  /** Talk to HttpFS: data goes in the first request with data=true instead of to a datanode. */
  httpfs: boolean;
  /** Ask for the datanode location as JSON (noredirect=true) rather than a 307. */
  noRedirect: boolean;
  /** Connect timeout, stall timeout (the longest wait for an answer or the next chunk of data) and retries. */
  policy: Required<NetworkPolicy>;
  /** Where retries and failovers are told (`--verbose`). */
  log?: StorageLog | undefined;
  /** The URI a user wrote for a path, for messages. */
  uriOf: (path: string) => string;
}

type QueryParams = Record<string, string | number | boolean | undefined>;

const API_PREFIX = "/webhdfs/v1";
const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

/** What we learn about a cluster, shared by every file system on it (each resolved URI makes a new one). */
interface ClusterState {
  active: string | undefined;
  listStatusBatch: boolean;
}
const clusters = new Map<string, ClusterState>();

class IdleTimeout extends Error {}

/**
 * Whether a failed request may be sent again: "unsent" when the server cannot have acted on it (no connection,
 * a standby, an error answer such as 503 or RetriableException), "ambiguous" when it may have (the connection
 * broke or stalled after the request went out), which only a request that changes nothing may repeat.
 */
type RetryKind = "unsent" | "ambiguous";
const retryKinds = new WeakMap<StorageError, RetryKind>();

function markRetriable<T extends StorageError>(error: T, kind: RetryKind): T {
  retryKinds.set(error, kind);
  return error;
}

/** Whether `error` is a failure that sending the request again may cure. */
export function isRetriable(error: unknown, idempotent: boolean): boolean {
  const kind = error instanceof StorageError ? retryKinds.get(error) : undefined;
  return kind === "unsent" || (kind === "ambiguous" && idempotent);
}

/** Remote exceptions that say "ask again": SafeModeException only while the namenode leaves it by itself. */
function retriableRemote(remote: RemoteException): boolean {
  if (remote.exception === "RetriableException") return true;
  if (remote.exception !== "SafeModeException") return false;
  return /turned off automatically|RetriableException/i.test(remote.message);
}

/**
 * `withRetries`, with a cancellation during a wait between attempts reported like any other: as an ABORTED
 * StorageError about `uri` (withRetries rejects with the signal's own reason).
 */
export async function retriedRequest<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions,
  uri: string,
): Promise<T> {
  try {
    return await withRetries(attempt, options);
  } catch (error) {
    if (options.signal?.aborted && !(error instanceof StorageError))
      throw new StorageError("ABORTED", "cancelled", { uri, cause: error });
    throw error;
  }
}

/** http dispatchers with the policy's connect timeout, one per timeout. */
const plainDispatchers = new Map<number, Promise<object>>();
function plainDispatcher(connectTimeoutMs: number): Promise<object> {
  let dispatcher = plainDispatchers.get(connectTimeoutMs);
  if (!dispatcher) {
    dispatcher = agentClass().then((Agent) => new Agent(agentOptions(connectTimeoutMs)));
    plainDispatchers.set(connectTimeoutMs, dispatcher);
  }
  return dispatcher;
}

/** Aborts a request when nothing moved for `ms` (like Hadoop's WebHDFS read timeout); `touch` restarts it. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly outer: AbortSignal | undefined;
  private readonly forwardAbort = () => this.controller.abort(this.outer?.reason);

  constructor(ms: number, outer: AbortSignal | undefined) {
    this.timer = setTimeout(() => this.controller.abort(new IdleTimeout()), ms).unref();
    this.outer = outer;
    if (outer?.aborted) this.forwardAbort();
    else outer?.addEventListener("abort", this.forwardAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get timedOut(): boolean {
    return this.signal.reason instanceof IdleTimeout;
  }

  touch(): void {
    this.timer.refresh();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener("abort", this.forwardAbort);
  }
}

/**
 * The WebHDFS REST protocol over `fetch`: builds URLs and auth parameters, fails over between HA namenodes,
 * retries what may be retried (with backoff, per the network policy), follows the namenode → datanode redirect of
 * data operations by hand, streams bodies both ways, and turns every failure into a one-line StorageError about
 * the user's URI.
 */
export class WebHdfsClient {
  private readonly options: WebHdfsClientOptions;
  private readonly namenodes: readonly string[];
  private readonly cluster: ClusterState;
  /** The CAs of the last https request, for a certificate failure's message. */
  private trust: TlsTrust | undefined;

  constructor(options: WebHdfsClientOptions) {
    this.options = options;
    this.namenodes = options.namenodes.map((base) => base.replace(/\/+$/, ""));
    const key = this.namenodes.join(" ");
    const known = clusters.get(key) ?? { active: undefined, listStatusBatch: true };
    clusters.set(key, known);
    this.cluster = known;
  }

  async getFileStatus(path: string): Promise<HdfsFileStatus> {
    const answer = await this.call<{ FileStatus?: HdfsFileStatus }>("GET", path, "GETFILESTATUS");
    return this.required(answer.FileStatus, path, "GETFILESTATUS");
  }

  /** Every entry of a directory (or the file itself, with an empty pathSuffix), paging with LISTSTATUS_BATCH. */
  async listStatus(path: string): Promise<HdfsFileStatus[]> {
    if (this.cluster.listStatusBatch) {
      try {
        return await this.listInBatches(path);
      } catch (error) {
        // Releases before Hadoop 2.8 (and old HttpFS) reject the op as an unknown enum constant.
        if (!isStorageError(error, "INVALID_ARGUMENT") || !error.detail.includes("LISTSTATUS_BATCH"))
          throw error;
        this.cluster.listStatusBatch = false;
      }
    }
    const answer = await this.call<{ FileStatuses?: { FileStatus?: HdfsFileStatus[] } }>(
      "GET",
      path,
      "LISTSTATUS",
    );
    return this.required(answer.FileStatuses?.FileStatus, path, "LISTSTATUS");
  }

  private async listInBatches(path: string): Promise<HdfsFileStatus[]> {
    type Batch = {
      DirectoryListing?: {
        partialListing?: { FileStatuses?: { FileStatus?: HdfsFileStatus[] } };
        remainingEntries?: number;
      };
    };
    const entries: HdfsFileStatus[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const answer = await this.call<Batch>("GET", path, "LISTSTATUS_BATCH", { startAfter });
      const listing = answer.DirectoryListing;
      const page = this.required(listing?.partialListing?.FileStatuses?.FileStatus, path, "LISTSTATUS_BATCH");
      entries.push(...page);
      const last = page.at(-1);
      if (!last || !listing?.remainingEntries) return entries;
      startAfter = last.pathSuffix;
    }
  }

  async mkdirs(path: string): Promise<boolean> {
    return this.booleanCall("PUT", path, "MKDIRS", {}, true);
  }

  /**
   * RENAME with `renameoptions` (FileContext's rename, ClientProtocol.rename2): atomic, failing with an
   * exception rather than `false`; with `overwrite` an existing target file is replaced in the same step, without
   * it an existing target is a FileAlreadyExistsException. Answers false only when a server ignored the options
   * and answered like the plain RENAME.
   */
  async renameAtomically(from: string, to: string, overwrite: boolean): Promise<boolean> {
    const params = { destination: to, renameoptions: overwrite ? "OVERWRITE" : "NONE" };
    return this.retried("RENAME", from, false, async (deadline) => {
      const { response, base } = await this.namenode("PUT", from, "RENAME", params, deadline);
      const text = await this.textOf(response, deadline, from, `namenode ${base}`);
      if (text.trim() === "") return true;
      const answer = this.parsed<{ boolean?: unknown }>(text, from, `namenode ${base}`, "RENAME");
      return this.required(typeof answer.boolean === "boolean" ? answer.boolean : undefined, from, "RENAME");
    });
  }

  /** DELETE answers false when the path does not exist. */
  async delete(path: string, recursive: boolean): Promise<boolean> {
    return this.booleanCall("DELETE", path, "DELETE", { recursive }, false);
  }

  /**
   * GETFILECHECKSUM: the namenode redirects to a datanode (like OPEN), which combines the CRCs its blocks keep;
   * HttpFS answers itself.
   */
  async getFileChecksum(path: string): Promise<WebHdfsFileChecksum> {
    return this.retried("GETFILECHECKSUM", path, true, async (deadline) => {
      const { data, server } = await this.readRedirected(path, "GETFILECHECKSUM", {}, deadline);
      const answer = this.parsed<{ FileChecksum?: Partial<WebHdfsFileChecksum> }>(
        await this.textOf(data, deadline, path, server),
        path,
        server,
        "GETFILECHECKSUM",
      );
      const checksum = answer.FileChecksum;
      const valid = typeof checksum?.algorithm === "string" && typeof checksum.bytes === "string";
      return this.required(valid ? (checksum as WebHdfsFileChecksum) : undefined, path, "GETFILECHECKSUM");
    });
  }

  /**
   * CREATE, as the documented two-step ("Create and Write to a File"): the namenode gets no body and names a
   * datanode (307 Location, or 200 {"Location"} with noredirect=true), which receives the bytes. Only the
   * namenode step is retried (it carries no data); the body is a stream that cannot be sent twice, so a failed
   * datanode step is for the caller to replay from its source.
   */
  async create(
    path: string,
    body: AsyncIterable<Uint8Array>,
    params: { overwrite: boolean },
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.options.httpfs) {
      // HttpFS takes the bytes in the first request, flagged data=true, with an octet-stream content type.
      const deadline = this.deadline(signal);
      try {
        const base = this.namenodeOrder()[0] as string;
        const url = this.url(base, path, "CREATE", { ...params, data: true });
        await this.send("PUT", url, path, `HttpFS ${base}`, deadline, body, base);
      } finally {
        deadline.clear();
      }
      return;
    }
    const redirectParams = { ...params, noredirect: this.options.noRedirect || undefined };
    const location = await this.retried(
      "CREATE",
      path,
      true,
      async (deadline) => {
        const { response, base } = await this.namenode("PUT", path, "CREATE", redirectParams, deadline);
        const found = await this.locationIn(response, path, true);
        if (!found) {
          throw new StorageError(
            "UNKNOWN",
            `namenode ${base} answered CREATE with HTTP ${response.status} and no datanode Location`,
            { uri: this.options.uriOf(path) },
          );
        }
        return found;
      },
      signal,
    );
    const deadline = this.deadline(signal);
    try {
      await this.send("PUT", location, path, `datanode ${location.origin}`, deadline, body);
    } finally {
      deadline.clear();
    }
  }

  /**
   * OPEN: the namenode redirects to a datanode (HttpFS answers itself); the bytes stream from there. Everything
   * up to the first byte is retried; a stream that breaks later fails, saying how much of it arrived.
   */
  async open(
    path: string,
    range: Partial<ByteRange>,
    signal?: AbortSignal,
  ): Promise<{ stream: Readable; length: number | undefined }> {
    return this.retried(
      "OPEN",
      path,
      true,
      async (deadline) => {
        const params = { offset: range.offset || undefined, length: range.length };
        const { data, server } = await this.readRedirected(path, "OPEN", params, deadline);
        const declared = Number(data.headers.get("content-length") ?? Number.NaN);
        const length = Number.isSafeInteger(declared) ? declared : undefined;
        return { stream: this.streamOf(data, path, server, deadline, length), length };
      },
      signal,
      // The stream owns the deadline from here: it clears it when it ends.
      true,
    );
  }

  private async booleanCall(
    method: string,
    path: string,
    op: string,
    params: QueryParams,
    idempotent: boolean,
  ): Promise<boolean> {
    const answer = await this.call<{ boolean?: boolean }>(method, path, op, params, idempotent);
    return this.required(typeof answer.boolean === "boolean" ? answer.boolean : undefined, path, op);
  }

  /** A metadata operation: the namenode answers JSON. Reads are retried after any transient failure. */
  private async call<T>(
    method: string,
    path: string,
    op: string,
    params: QueryParams = {},
    idempotent = method === "GET",
  ): Promise<T> {
    return this.retried(op, path, idempotent, async (deadline) => {
      const { response, base } = await this.namenode(method, path, op, params, deadline);
      const server = `namenode ${base}`;
      return this.parsed<T>(await this.textOf(response, deadline, path, server), path, server, op);
    });
  }

  /**
   * Runs one request (`attempt`, with a fresh stall deadline each time) until it succeeds or fails for good:
   * failures before the server could act are retried, others only for requests that change nothing.
   */
  private retried<T>(
    op: string,
    path: string,
    idempotent: boolean,
    attempt: (deadline: Deadline) => Promise<T>,
    signal?: AbortSignal,
    keepDeadline = false,
  ): Promise<T> {
    return retriedRequest(
      async () => {
        const deadline = this.deadline(signal);
        try {
          const result = await attempt(deadline);
          if (!keepDeadline) deadline.clear();
          return result;
        } catch (error) {
          deadline.clear();
          throw error;
        }
      },
      {
        policy: this.options.policy,
        isRetriable: (error) => isRetriable(error, idempotent),
        what: `${op} ${this.options.uriOf(path)}`,
        log: this.options.log,
        signal,
      },
      this.options.uriOf(path),
    );
  }

  private deadline(signal: AbortSignal | undefined): Deadline {
    return new Deadline(this.options.policy.stallTimeoutMs, signal);
  }

  private async textOf(
    response: Response,
    deadline: Deadline,
    path: string,
    server: string,
  ): Promise<string> {
    return response.text().catch((error: unknown) => {
      throw this.transportFailure(error, deadline, path, server);
    });
  }

  /** JSON from `server` (`namenode http://nn:9870`, `datanode …`). */
  private parsed<T>(text: string, path: string, server: string, op: string): T {
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new StorageError("UNKNOWN", `${server} answered ${op} with something other than JSON`, {
        uri: this.options.uriOf(path),
        cause,
      });
    }
  }

  private required<T>(value: T | undefined, path: string, op: string): T {
    if (value === undefined) {
      throw new StorageError("UNKNOWN", `unexpected answer to ${op}: is this a WebHDFS server?`, {
        uri: this.options.uriOf(path),
      });
    }
    return value;
  }

  /** The last namenode that answered comes first; the others follow in configured order. */
  private namenodeOrder(): string[] {
    const { active } = this.cluster;
    return active ? [active, ...this.namenodes.filter((base) => base !== active)] : [...this.namenodes];
  }

  /**
   * Sends a body-less request to the namenodes in turn until one is active. A StandbyException (HA) or a
   * connection that could not be opened moves on to the next, which is logged; any other answer is final.
   */
  private async namenode(
    method: string,
    path: string,
    op: string,
    params: QueryParams,
    deadline: Deadline,
  ): Promise<{ response: Response; base: string }> {
    const failures: string[] = [];
    let sawStandby = false;
    const order = this.namenodeOrder();
    const failOver = (base: string, reason: string) => {
      failures.push(`${base} (${reason})`);
      const next = order[order.indexOf(base) + 1];
      if (next) this.options.log?.(`namenode ${base} is unavailable (${reason}); trying namenode ${next}`);
    };
    for (const base of order) {
      const server = `namenode ${base}`;
      let response: Response;
      try {
        response = await this.authenticatedFetch(base, path, deadline, (headers) =>
          this.fetch(this.url(base, path, op, params), {
            method,
            redirect: "manual",
            signal: deadline.signal,
            headers,
          }),
        );
      } catch (error) {
        if (error instanceof StorageError) throw error;
        if (!isUnreachable(error) || deadline.signal.aborted)
          throw this.transportFailure(error, deadline, path, server);
        failOver(base, connectionReasonOf(error));
        continue;
      }
      if (response.status >= 400) {
        const failure = await this.httpFailure(response, path, server, deadline);
        const standby =
          failure.cause instanceof RemoteException && failure.cause.exception === "StandbyException";
        if (!standby) {
          // Any other answer comes from the active namenode, even an error.
          this.cluster.active = base;
          throw failure;
        }
        sawStandby = true;
        failOver(base, "standby");
        continue;
      }
      this.cluster.active = base;
      return { response, base };
    }
    const detail = sawStandby
      ? `no active namenode: ${failures.join(", ")}`
      : `cannot reach namenode ${failures.join(", ")}`;
    throw markRetriable(new StorageError("TRANSIENT", detail, { uri: this.options.uriOf(path) }), "unsent");
  }

  /** A request to a datanode (or HttpFS); the caller decides whether it may be sent again. */
  private async send(
    method: string,
    url: URL,
    path: string,
    server: string,
    deadline: Deadline,
    body?: AsyncIterable<Uint8Array>,
    /** An HttpFS gateway's base URL: the request authenticates like one to a namenode. */
    authBase?: string,
  ): Promise<Response> {
    // Every chunk taken by fetch restarts the idle clock.
    const tracked = body && {
      async *[Symbol.asyncIterator]() {
        for await (const chunk of body) {
          deadline.touch();
          yield chunk;
        }
      },
    };
    let response: Response;
    const attempt =
      authBase && this.options.spnego
        ? await this.options.spnego.attempt(authBase, this.options.uriOf(path))
        : undefined;
    try {
      response = await this.fetch(url, {
        method,
        // With any other redirect mode fetch clones the request, teeing a streamed body into a branch nobody
        // reads, which buffers the whole upload (nodejs/undici#4058). Datanodes do not redirect uploads.
        redirect: tracked ? "error" : "manual",
        signal: deadline.signal,
        headers: {
          ...attempt?.headers,
          ...(tracked && { "Content-Type": "application/octet-stream" }),
        },
        ...(tracked && { body: tracked, duplex: "half" }),
      });
    } catch (error) {
      throw this.transportFailure(error, deadline, path, server);
    }
    deadline.touch();
    if (attempt && authBase && this.options.spnego) {
      await this.options.spnego.accept(authBase, attempt, response, this.options.uriOf(path));
    }
    if (response.status >= 400) throw await this.httpFailure(response, path, server, deadline);
    if (response.status >= 300) {
      await response.body?.cancel();
      const detail = `${server} answered with an unexpected redirect (HTTP ${response.status})`;
      throw new StorageError("UNKNOWN", detail, { uri: this.options.uriOf(path) });
    }
    if (method !== "GET") await response.body?.cancel();
    return response;
  }

  /**
   * fetch, through a dispatcher with the policy's connect timeout that, for https, also trusts the system CA store
   * and NODE_EXTRA_CA_CERTS (Node's fetch alone trusts only its bundled CAs).
   */
  private async fetch(url: URL, init: RequestInit): Promise<Response> {
    const { connectTimeoutMs } = this.options.policy;
    if (url.protocol !== "https:")
      return fetch(url, { ...init, dispatcher: await plainDispatcher(connectTimeoutMs) } as RequestInit);
    this.trust = await tlsTrust(connectTimeoutMs);
    return fetch(url, { ...init, dispatcher: this.trust.dispatcher } as RequestInit);
  }

  /**
   * A body-less request to a namenode or gateway with its credentials: SPNEGO (or the server's cookie, and once
   * more with a fresh Negotiate token when the cookie is refused), or none when Kerberos is off.
   */
  private async authenticatedFetch(
    base: string,
    path: string,
    deadline: Deadline,
    request: (headers: Record<string, string>) => Promise<Response>,
  ): Promise<Response> {
    const { spnego } = this.options;
    if (!spnego) return request({});
    const uri = this.options.uriOf(path);
    let attempt: SpnegoAttempt = await spnego.attempt(base, uri);
    let response = await request(attempt.headers);
    if (response.status === 401 && attempt.usedCookie) {
      await response.body?.cancel();
      spnego.forget(base);
      attempt = await spnego.attempt(base, uri, true);
      response = await request(attempt.headers);
    }
    deadline.touch();
    await spnego.accept(base, attempt, response, uri);
    return response;
  }

  /**
   * A GET that the namenode sends on to a datanode (OPEN, GETFILECHECKSUM), or that HttpFS answers itself: the
   * answer with the data, and which server gave it (for messages).
   */
  private async readRedirected(
    path: string,
    op: string,
    params: QueryParams,
    deadline: Deadline,
  ): Promise<{ data: Response; server: string }> {
    const askJson = this.options.noRedirect && !this.options.httpfs;
    const { response, base } = await this.namenode(
      "GET",
      path,
      op,
      { ...params, noredirect: askJson || undefined },
      deadline,
    );
    const location = await this.locationIn(response, path, askJson);
    if (!location) return { data: response, server: `namenode ${base}` };
    const server = `datanode ${location.origin}`;
    return { data: await this.send("GET", location, path, server, deadline), server };
  }

  /** Where a namenode sends the data: a 307 Location header, or a JSON {"Location"} answer to noredirect=true. */
  private async locationIn(
    response: Response,
    path: string,
    jsonExpected: boolean,
  ): Promise<URL | undefined> {
    const header = response.headers.get("location");
    if (response.status >= 300 && header) {
      await response.body?.cancel();
      return new URL(header, response.url);
    }
    const json = response.headers.get("content-type")?.includes("application/json");
    if (!jsonExpected || !json) return undefined;
    const answer = (await response.json().catch(() => undefined)) as { Location?: unknown } | undefined;
    const location = this.required(
      typeof answer?.Location === "string" ? answer.Location : undefined,
      path,
      "noredirect",
    );
    return new URL(location, response.url);
  }

  /** The answer's body as a stream; one that ends or breaks before `length` bytes says how many came. */
  private streamOf(
    response: Response,
    path: string,
    server: string,
    deadline: Deadline,
    length: number | undefined,
  ): Readable {
    const body = response.body;
    const uri = this.options.uriOf(path);
    const cutShort = (received: number, cause?: unknown) =>
      new StorageError("TRANSIENT", `${server}: the connection closed after ${received} of ${length} bytes`, {
        uri,
        cause,
      });
    const fail = (error: unknown, received: number) => {
      const failure = this.transportFailure(error, deadline, path, server);
      const broken = !deadline.signal.aborted && length !== undefined && received < length;
      return broken ? cutShort(received, error) : failure;
    };
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let received = 0;
      try {
        if (body) {
          for await (const chunk of body) {
            deadline.touch();
            received += (chunk as Uint8Array).length;
            yield chunk as Uint8Array;
          }
        }
      } catch (error) {
        throw fail(error, received);
      } finally {
        deadline.clear();
      }
      if (length !== undefined && received < length) throw cutShort(received);
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  private url(base: string, path: string, op: string, params: QueryParams): URL {
    const url = new URL(`${base}${API_PREFIX}${encodePath(path)}`);
    const { user, doAs, delegationToken, spnego } = this.options;
    // With a delegation token the token names the user, with Kerberos the ticket: user.name would be ignored
    // or refused.
    const query: QueryParams = {
      op,
      ...params,
      "user.name": delegationToken || spnego ? undefined : user,
      doas: doAs,
      delegation: delegationToken,
    };
    // Percent-encoding (not URLSearchParams' "+" for spaces) reads the same to Jersey, Netty and HttpFS.
    url.search = Object.entries(query)
      .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
      .join("&");
    return url;
  }

  private context(path: string, server: string): ErrorContext {
    const tokens = [this.options.delegationToken, ...(this.options.secrets ?? [])].filter(
      (token): token is string => Boolean(token),
    );
    return {
      uri: this.options.uriOf(path),
      server,
      redact: (text) =>
        tokens.reduce((redacted, token) => redacted.split(token).join("<delegation token>"), text),
    };
  }

  private async httpFailure(
    response: Response,
    path: string,
    server: string,
    deadline: Deadline,
  ): Promise<StorageError> {
    const context = this.context(path, server);
    const body = await this.textOf(response, deadline, path, server);
    const remote = parseRemoteException(response.status, body, context.redact);
    const failure = remote
      ? fromRemoteException(remote, context)
      : fromHttpStatus(response.status, body, context);
    // An error answer means the server did not act: asking again is safe when the answer says it may help.
    if (response.status >= 500 || (remote && retriableRemote(remote))) markRetriable(failure, "unsent");
    if (response.status === 401 && this.options.spnego && !remote) {
      return new StorageError(
        "PERMISSION_DENIED",
        `${server} refused the Kerberos credentials (HTTP 401): check that its HTTP principal and keytab match the host name used`,
        {
          uri: context.uri,
          cause: failure.cause,
          hint: "kinit again, or check the namenode's SPNEGO keytab",
        },
      );
    }
    if (response.status === 403 && this.options.spnego) {
      const denied = new StorageError(failure.code, failure.detail, {
        uri: context.uri,
        cause: failure.cause,
        hint: "the namenode authenticated you but refused the request: check the Kerberos principal it maps to a user (hadoop.security.auth_to_local) and the permissions",
      });
      return retryKinds.has(failure) ? markRetriable(denied, "unsent") : denied;
    }
    const hint = this.options.missingTokenHint;
    if (response.status !== 401 || !hint) return failure;
    return new StorageError(failure.code, `${failure.detail}; ${hint}`, {
      uri: context.uri,
      cause: failure.cause,
    });
  }

  private transportFailure(error: unknown, deadline: Deadline, path: string, server: string): StorageError {
    const uri = this.options.uriOf(path);
    if (error instanceof StorageError) return error;
    if (deadline.timedOut) {
      const seconds = this.options.policy.stallTimeoutMs / 1000;
      const detail = `${server}: no answer for ${seconds} s (stalled)`;
      return markRetriable(new StorageError("TRANSIENT", detail, { uri, cause: error }), "ambiguous");
    }
    if (deadline.signal.aborted) return new StorageError("ABORTED", "cancelled", { uri, cause: error });
    const certificate = certificateFailureOf(error);
    if (certificate) return certificateError(certificate, server, uri, this.trust?.files ?? [], error);
    return markRetriable(
      fromTransportError(error, this.context(path, server)),
      isUnreachable(error) ? "unsent" : "ambiguous",
    );
  }
}
