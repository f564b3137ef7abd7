import { Readable } from "node:stream";
import { type ByteRange, isStorageError, StorageError } from "@cluster-pack/fs";
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
import type { Spnego, SpnegoAttempt } from "./spnego.js";
import { certificateError, certificateFailureOf, type TlsTrust, tlsTrust } from "./tls-trust.js";

/** The fields of a WebHDFS FileStatus object that we read. */
export interface HdfsFileStatus {
  pathSuffix: string;
  type: "FILE" | "DIRECTORY" | "SYMLINK";
  length: number;
  modificationTime: number;
  /** Octal, as text: "644", "1777". */
  permission: string;
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
  /** Longest wait for a server to answer or for the next chunk of data. */
  timeoutMs: number;
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
 * follows the namenode → datanode redirect of data operations by hand, streams bodies both ways, and turns
 * every failure into a one-line StorageError about the user's URI.
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
    return this.booleanCall("PUT", path, "MKDIRS");
  }

  /** RENAME answers false rather than an error for most failures (missing source, taken target, no parent). */
  async rename(from: string, to: string): Promise<boolean> {
    return this.booleanCall("PUT", from, "RENAME", { destination: to });
  }

  /** DELETE answers false when the path does not exist. */
  async delete(path: string, recursive: boolean): Promise<boolean> {
    return this.booleanCall("DELETE", path, "DELETE", { recursive });
  }

  /**
   * CREATE, as the documented two-step ("Create and Write to a File"): the namenode gets no body and names a
   * datanode (307 Location, or 200 {"Location"} with noredirect=true), which receives the bytes. Only the
   * namenode step fails over: the body is a stream that cannot be sent twice.
   */
  async create(
    path: string,
    body: AsyncIterable<Uint8Array>,
    params: { overwrite: boolean },
    signal?: AbortSignal,
  ): Promise<void> {
    const deadline = new Deadline(this.options.timeoutMs, signal);
    try {
      if (this.options.httpfs) {
        // HttpFS takes the bytes in the first request, flagged data=true, with an octet-stream content type.
        const base = this.namenodeOrder()[0] as string;
        const url = this.url(base, path, "CREATE", { ...params, data: true });
        await this.send("PUT", url, path, `HttpFS ${base}`, deadline, body, base);
        return;
      }
      const redirectParams = { ...params, noredirect: this.options.noRedirect || undefined };
      const { response, base } = await this.namenode("PUT", path, "CREATE", redirectParams, deadline);
      const location = await this.locationIn(response, path, true);
      if (!location) {
        throw new StorageError(
          "UNKNOWN",
          `namenode ${base} answered CREATE with HTTP ${response.status} and no datanode Location`,
          { uri: this.options.uriOf(path) },
        );
      }
      await this.send("PUT", location, path, `datanode ${location.origin}`, deadline, body);
    } finally {
      deadline.clear();
    }
  }

  /** OPEN: the namenode redirects to a datanode (HttpFS answers itself); the bytes stream from there. */
  async open(
    path: string,
    range: Partial<ByteRange>,
    signal?: AbortSignal,
  ): Promise<{ stream: Readable; length: number | undefined }> {
    const deadline = new Deadline(this.options.timeoutMs, signal);
    try {
      const askJson = this.options.noRedirect && !this.options.httpfs;
      const params = {
        offset: range.offset || undefined,
        length: range.length,
        noredirect: askJson || undefined,
      };
      const { response, base } = await this.namenode("GET", path, "OPEN", params, deadline);
      let data = response;
      let server = `namenode ${base}`;
      const location = await this.locationIn(response, path, askJson);
      if (location) {
        server = `datanode ${location.origin}`;
        data = await this.send("GET", location, path, server, deadline);
      }
      const declared = Number(data.headers.get("content-length") ?? Number.NaN);
      return {
        stream: this.streamOf(data, path, server, deadline),
        length: Number.isSafeInteger(declared) ? declared : undefined,
      };
    } catch (error) {
      deadline.clear();
      throw error;
    }
  }

  private async booleanCall(
    method: string,
    path: string,
    op: string,
    params: QueryParams = {},
  ): Promise<boolean> {
    const answer = await this.call<{ boolean?: boolean }>(method, path, op, params);
    return this.required(typeof answer.boolean === "boolean" ? answer.boolean : undefined, path, op);
  }

  /** A metadata operation: the namenode answers JSON. */
  private async call<T>(method: string, path: string, op: string, params: QueryParams = {}): Promise<T> {
    const deadline = new Deadline(this.options.timeoutMs, undefined);
    try {
      const { response, base } = await this.namenode(method, path, op, params, deadline);
      const text = await response.text().catch((error: unknown) => {
        throw this.transportFailure(error, deadline, path, `namenode ${base}`);
      });
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new StorageError("UNKNOWN", `namenode ${base} answered ${op} with something other than JSON`, {
          uri: this.options.uriOf(path),
          cause,
        });
      }
    } finally {
      deadline.clear();
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
   * connection that could not be opened moves on to the next; any other answer is final.
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
    for (const base of this.namenodeOrder()) {
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
        failures.push(`${base} (${connectionReasonOf(error)})`);
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
        failures.push(`${base} (standby)`);
        continue;
      }
      this.cluster.active = base;
      return { response, base };
    }
    const detail = sawStandby
      ? `no active namenode: ${failures.join(", ")}`
      : `cannot reach namenode ${failures.join(", ")}`;
    throw new StorageError("TRANSIENT", detail, { uri: this.options.uriOf(path) });
  }

  /** A request to a datanode (or HttpFS): no failover, since a streamed body cannot be replayed. */
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
   * fetch, through a dispatcher that trusts the system CA store and NODE_EXTRA_CA_CERTS when the URL is https
   * (Node's fetch alone trusts only its bundled CAs).
   */
  private async fetch(url: URL, init: RequestInit): Promise<Response> {
    if (url.protocol !== "https:") return fetch(url, init);
    this.trust = await tlsTrust();
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

  private streamOf(response: Response, path: string, server: string, deadline: Deadline): Readable {
    const body = response.body;
    const fail = (error: unknown) => this.transportFailure(error, deadline, path, server);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        if (body) {
          for await (const chunk of body) {
            deadline.touch();
            yield chunk as Uint8Array;
          }
        }
      } catch (error) {
        throw fail(error);
      } finally {
        deadline.clear();
      }
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
    const body = await response.text().catch((error: unknown) => {
      throw this.transportFailure(error, deadline, path, server);
    });
    const remote = parseRemoteException(response.status, body, context.redact);
    const failure = remote
      ? fromRemoteException(remote, context)
      : fromHttpStatus(response.status, body, context);
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
      return new StorageError(failure.code, failure.detail, {
        uri: context.uri,
        cause: failure.cause,
        hint: "the namenode authenticated you but refused the request: check the Kerberos principal it maps to a user (hadoop.security.auth_to_local) and the permissions",
      });
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
      const detail = `${server} did not answer within ${this.options.timeoutMs / 1000} s`;
      return new StorageError("TRANSIENT", detail, { uri, cause: error });
    }
    if (deadline.signal.aborted) return new StorageError("ABORTED", "cancelled", { uri, cause: error });
    const certificate = certificateFailureOf(error);
    if (certificate) return certificateError(certificate, server, uri, this.trust?.files ?? [], error);
    return fromTransportError(error, this.context(path, server));
  }
}
