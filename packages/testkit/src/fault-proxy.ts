/**
 * An HTTP/1.1 reverse proxy on loopback that puts network faults between a client and a test server (s3rver,
 * the WebHDFS server): it forwards requests and answers as they are, streaming both bodies, and on the requests
 * its rules pick it resets the connection part-way through the body, answers with an error status, waits, stalls,
 * flips a bit of either body, or cuts the answer short.
 */

import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** What a rule does to the request it picks. */
export type FaultAction =
  /**
   * Forwards `afterBytes` bytes of the request body (default 0: nothing, and the server is never contacted),
   * then aborts the request to the server, which never sees a complete body, and resets the client's
   * connection (the client sees ECONNRESET or "socket hang up"). A body shorter than `afterBytes` is forwarded
   * whole and the connection is reset instead of answered: the request arrived, its answer was lost.
   */
  | { kind: "reset"; afterBytes?: number }
  /** Answers with this status without forwarding; the request body is read and dropped first. */
  | { kind: "status"; status: number; body?: string; headers?: OutgoingHttpHeaders }
  /** Waits `ms` before forwarding. */
  | { kind: "delay"; ms: number }
  /**
   * Forwards `afterBytes` bytes of the request body (default 0: the server is never contacted), then neither
   * forwards nor answers: the request hangs until the client gives up or the proxy closes.
   */
  | { kind: "stall"; afterBytes?: number }
  /** Forwards the request with the lowest bit of its body's byte `atByte` (default 0) flipped: corruption in transit. */
  | { kind: "flip"; atByte?: number }
  /** Forwards the request and relays the answer with the lowest bit of its body's byte `atByte` (default 0) flipped. */
  | { kind: "flipAnswer"; atByte?: number }
  /**
   * Forwards the request and relays the answer's head and its first `afterBytes` body bytes, then ends the
   * connection: the client sees a body shorter than its Content-Length.
   */
  | { kind: "truncate"; afterBytes: number };

export interface FaultRule {
  /** The request method (`PUT`); any when absent. */
  method?: string;
  /**
   * Which requests the rule is about, given the URL on the server: its origin (so a datanode is told from its
   * namenode), then the path and query as the client sent them. Every request when absent.
   */
  url?: (url: URL) => boolean;
  /** The first matching request the rule fires on, counting from 1 (default 1). */
  nth?: number;
  /** How many matching requests, from the `nth` on, it fires on (default 1). */
  times?: number;
  action: FaultAction;
}

/** A rule in force, with how often it matched and fired so far. */
export interface Fault {
  readonly rule: FaultRule;
  readonly matched: number;
  readonly fired: number;
}

/** One request the proxy received. */
export interface ProxiedRequest {
  method: string;
  /** The URL on the server: its origin, then the path and query as the client sent them. */
  url: URL;
  /** The fault a rule applied to it, if any. */
  fault?: FaultAction["kind"];
  /** Request-body bytes forwarded to the server. */
  forwardedBytes: number;
  /** The status the client was answered with; absent while pending and when the connection was reset. */
  status?: number;
}

export interface FaultProxyOptions {
  /** The origin to put the proxy in front of: `http://127.0.0.1:<port>`. */
  target: string;
  /** Rules in force from the start; a request gets the first rule that fires on it. */
  faults?: readonly FaultRule[];
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: the proxy in front of the target; clients use it instead of the target. */
  url: string;
  /** `127.0.0.1:<port>` of `url` (an authority for `webhdfs://` URIs). */
  address: string;
  /** Every request so far, oldest first, from every listener. */
  requests: ProxiedRequest[];
  /** Empties `requests`. */
  clearRequests(): void;
  /** Puts a rule in force after the ones already there. */
  addFault(rule: FaultRule): Fault;
  /** Removes every rule. */
  clearFaults(): void;
  /**
   * The proxy's URL in front of another server (a separate datanode), listening from now on. Answers that
   * point at a loopback origin get one on their own; this is for reaching one before any answer named it.
   */
  urlFor(origin: string): Promise<string>;
  /** Stops every listener and destroys every connection, both to clients and to servers. */
  close(): Promise<void>;
}

/** Headers about one connection, not the message (RFC 9110, section 7.6.1); each hop sets its own. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
]);
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
/** Largest JSON answer read whole to rewrite its `Location` (WebHDFS `noredirect=true`); bigger ones stream. */
const JSON_REWRITE_LIMIT = 64 * 1024;

function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    (headers.connection ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  return Object.fromEntries(
    Object.entries(headers).filter(
      ([name, value]) => value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name),
    ),
  );
}

function originOf(url: string): string {
  const origin = new URL(url).origin;
  if (!origin.startsWith("http://")) throw new Error(`fault proxy: ${url} is not an http:// origin`);
  return origin;
}

/** A copy of `chunk` with the lowest bit of its byte `index` flipped. */
function flipped(chunk: Buffer, index: number): Buffer {
  const copy = Buffer.from(chunk);
  copy[index] = (copy[index] ?? 0) ^ 1;
  return copy;
}

/** Writes `bytes`, then ends the connection without completing the message. */
function endAfter(res: ServerResponse, bytes: Buffer): void {
  res.write(bytes, () => res.destroy());
}

/** For a `flipAnswer` fault, what it does to the answer's body, chunk after chunk. */
function answerFlip(fault: FaultAction | undefined): ((chunk: Buffer) => Buffer) | undefined {
  if (fault?.kind !== "flipAnswer") return undefined;
  const at = fault.atByte ?? 0;
  let offset = 0;
  return (chunk) => {
    const start = offset;
    offset += chunk.length;
    return at >= start && at < offset ? flipped(chunk, at - start) : chunk;
  };
}

/** Streams an answer body to the client through a flip, or cut after `afterBytes` bytes. */
function relayFaultyBody(upstream: IncomingMessage, res: ServerResponse, fault: FaultAction): void {
  const flip = answerFlip(fault);
  const cutAt = fault.kind === "truncate" ? fault.afterBytes : Number.POSITIVE_INFINITY;
  let relayed = 0;
  upstream.on("data", (chunk: Buffer) => {
    if (relayed >= cutAt) return;
    let piece = flip?.(chunk) ?? chunk;
    if (relayed + piece.length >= cutAt) {
      piece = piece.subarray(0, cutAt - relayed);
      relayed = cutAt;
      upstream.destroy();
      endAfter(res, piece);
      return;
    }
    relayed += piece.length;
    if (!res.write(piece)) {
      upstream.pause();
      res.once("drain", () => upstream.resume());
    }
  });
  upstream.on("end", () => {
    if (relayed < cutAt || cutAt === Number.POSITIVE_INFINITY) res.end();
  });
  upstream.once("aborted", () => res.destroy());
  upstream.once("error", () => res.destroy());
}

/** Starts a fault proxy in front of `options.target` on 127.0.0.1 and an OS-chosen port. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const requests: ProxiedRequest[] = [];
  const faults: { rule: FaultRule; matched: number; fired: number }[] = [];
  // Connections to the servers are the proxy's own, so close() can end them too.
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  /** Delays in progress: close() ends them at once. */
  const delays = new Set<() => void>();
  /** Server origin → the proxy's listener in front of it. */
  const listeners = new Map<string, Promise<{ server: Server; url: string }>>();
  let closed = false;

  const addFault = (rule: FaultRule): Fault => {
    const fault = { rule, matched: 0, fired: 0 };
    faults.push(fault);
    return fault;
  };
  for (const rule of options.faults ?? []) addFault(rule);

  /** Counts the request against every rule it matches; the first rule with a turn left fires. */
  const faultFor = (method: string, url: URL): FaultAction | undefined => {
    let chosen: FaultAction | undefined;
    for (const fault of faults) {
      const { rule } = fault;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (rule.url && !rule.url(url)) continue;
      fault.matched += 1;
      if (chosen || fault.matched < (rule.nth ?? 1) || fault.fired >= (rule.times ?? 1)) continue;
      fault.fired += 1;
      chosen = rule.action;
    }
    return chosen;
  };

  /** `Location` values pointing at a loopback server are sent through the proxy too. */
  const throughProxy = async (location: string): Promise<string> => {
    const [, origin, rest] = /^(http:\/\/[^/?#]+)(.*)$/is.exec(location) ?? [];
    if (origin === undefined || rest === undefined) return location;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return location;
    }
    if (!LOOPBACK_HOSTS.has(parsed.hostname)) return location;
    return `${await urlFor(parsed.origin)}${rest}`;
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        delays.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      delays.add(end);
    });

  const resetClient = (req: IncomingMessage) => {
    // An RST, not a FIN: the client sees ECONNRESET rather than an answer that merely ended early.
    if (!req.socket.destroyed) req.socket.resetAndDestroy();
  };

  const answer = (
    res: ServerResponse,
    entry: ProxiedRequest,
    status: number,
    headers: OutgoingHttpHeaders,
    body: string,
  ) => {
    entry.status = status;
    res.writeHead(status, { "Content-Length": Buffer.byteLength(body), ...headers });
    res.end(body);
  };

  const relayAnswer = async (
    res: ServerResponse,
    entry: ProxiedRequest,
    upstream: IncomingMessage,
    fault?: FaultAction,
  ) => {
    const headers = endToEndHeaders(upstream.headers);
    const { location } = upstream.headers;
    if (location) headers.location = await throughProxy(location);
    const length = Number(upstream.headers["content-length"] ?? Number.NaN);
    const isJson = /^application\/json\b/i.test(upstream.headers["content-type"] ?? "");
    if (isJson && length > 0 && length <= JSON_REWRITE_LIMIT) {
      // WebHDFS with noredirect=true names the datanode in the body: {"Location": "http://…"}.
      const chunks: Buffer[] = [];
      for await (const chunk of upstream) chunks.push(chunk as Buffer);
      let body = Buffer.concat(chunks);
      const parsed = (() => {
        try {
          return JSON.parse(body.toString("utf8")) as unknown;
        } catch {
          return undefined;
        }
      })();
      if (
        parsed &&
        typeof parsed === "object" &&
        "Location" in parsed &&
        typeof parsed.Location === "string"
      ) {
        body = Buffer.from(JSON.stringify({ ...parsed, Location: await throughProxy(parsed.Location) }));
        headers["content-length"] = body.length;
      }
      entry.status = upstream.statusCode ?? 502;
      res.writeHead(entry.status, upstream.statusMessage, headers);
      const answerBody = answerFlip(fault)?.(body) ?? body;
      if (fault?.kind === "truncate") return endAfter(res, answerBody.subarray(0, fault.afterBytes));
      res.end(answerBody);
      return;
    }
    entry.status = upstream.statusCode ?? 502;
    res.writeHead(entry.status, upstream.statusMessage, headers);
    if (fault?.kind === "flipAnswer" || fault?.kind === "truncate") {
      relayFaultyBody(upstream, res, fault);
      return;
    }
    upstream.pipe(res);
    // A server that dies mid-answer: the client must see a broken answer, not a short one that looks whole.
    upstream.once("aborted", () => res.destroy());
    upstream.once("error", () => res.destroy());
  };

  /**
   * Forwards the request to `origin`, streaming the body with backpressure, and applies `fault`: a reset stops
   * after `afterBytes` body bytes (or at the answer, for a shorter body), aborts the forwarded request and resets
   * the client; a stall stops forwarding there and leaves both sides waiting; flips and truncation alter a body.
   */
  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    entry: ProxiedRequest,
    origin: URL,
    fault?: FaultAction,
  ) => {
    const resetAfter = fault?.kind === "reset" ? fault.afterBytes : undefined;
    const stallAfter = fault?.kind === "stall" ? (fault.afterBytes ?? 0) : undefined;
    const limit = resetAfter ?? stallAfter ?? Number.POSITIVE_INFINITY;
    const flipAt = fault?.kind === "flip" ? (fault.atByte ?? 0) : undefined;
    const upstream = httpRequest({
      agent,
      host: origin.hostname,
      port: origin.port,
      method: req.method,
      path: req.url,
      // Host stays the one the client sent: SigV4 signs it, and test servers on loopback ignore it otherwise.
      headers: endToEndHeaders(req.headers),
    });
    let tripped = false;
    const trip = () => {
      if (tripped) return;
      tripped = true;
      req.off("data", onData);
      upstream.destroy();
      resetClient(req);
    };
    const onData = (chunk: Buffer) => {
      const room = limit - entry.forwardedBytes;
      let piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (
        flipAt !== undefined &&
        flipAt >= entry.forwardedBytes &&
        flipAt < entry.forwardedBytes + piece.length
      )
        piece = flipped(piece, flipAt - entry.forwardedBytes);
      entry.forwardedBytes += piece.length;
      if (entry.forwardedBytes >= limit) {
        req.off("data", onData);
        // A reset stops reading; a stall reads on and drops the rest, so it notices the client giving up.
        if (resetAfter !== undefined) req.pause();
        // Reset once the bytes are on their way, so the server gets exactly `limit` of them; a stall just stops.
        upstream.write(piece, () => {
          if (resetAfter !== undefined) trip();
        });
        return;
      }
      if (!upstream.write(piece)) req.pause();
    };
    upstream.on("drain", () => req.resume());
    req.on("data", onData);
    req.on("end", () => {
      if (!tripped) upstream.end();
    });
    // The client went away before its answer was sent: so does the request it was making.
    res.once("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on("response", (answerFromServer) => {
      if (resetAfter !== undefined) {
        answerFromServer.resume();
        trip();
        return;
      }
      if (stallAfter !== undefined) {
        // The server answered a body shorter than the stall point: the client still never hears back.
        answerFromServer.resume();
        return;
      }
      relayAnswer(res, entry, answerFromServer, fault).catch(() => res.destroy());
    });
    upstream.on("error", (error) => {
      if (tripped) return;
      if (res.headersSent) res.destroy();
      else answer(res, entry, 502, { "Content-Type": "text/plain" }, `fault proxy: ${error.message}\n`);
    });
  };

  const handle = (origin: URL) => async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? "GET";
    const entry: ProxiedRequest = { method, url: new URL(req.url ?? "/", origin), forwardedBytes: 0 };
    requests.push(entry);
    const action = faultFor(method, entry.url);
    if (action) entry.fault = action.kind;
    switch (action?.kind) {
      case undefined:
        return forward(req, res, entry, origin);
      case "delay":
        await sleep(action.ms);
        // Closed meanwhile, or the client gave up waiting: nothing to forward.
        if (closed || req.socket.destroyed) return resetClient(req);
        return forward(req, res, entry, origin);
      case "status": {
        // Read to the end so the client, still sending, sees the answer rather than a broken pipe.
        req.resume();
        await new Promise((resolve) => req.once("end", resolve).once("close", resolve));
        const body = action.body ?? `fault proxy: injected HTTP ${action.status}\n`;
        return answer(res, entry, action.status, { "Content-Type": "text/plain", ...action.headers }, body);
      }
      case "reset":
        if ((action.afterBytes ?? 0) <= 0) return resetClient(req);
        return forward(req, res, entry, origin, action);
      case "stall":
        // Nothing forwarded, nothing answered: the body is read and dropped until the client or close() ends it.
        if ((action.afterBytes ?? 0) <= 0) {
          req.resume();
          return;
        }
        return forward(req, res, entry, origin, action);
      case "flip":
      case "flipAnswer":
      case "truncate":
        return forward(req, res, entry, origin, action);
    }
  };

  const listen = async (origin: string) => {
    const server = createServer((req, res) => {
      handle(new URL(origin))(req, res).catch(() => resetClient(req));
    });
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };

  const urlFor = async (serverUrl: string): Promise<string> => {
    const origin = originOf(serverUrl);
    let listener = listeners.get(origin);
    if (!listener) {
      if (closed) throw new Error("fault proxy: closed");
      listener = listen(origin);
      listeners.set(origin, listener);
    }
    return (await listener).url;
  };

  const url = await urlFor(options.target);
  return {
    url,
    address: new URL(url).host,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    addFault,
    clearFaults: () => {
      faults.length = 0;
    },
    urlFor,
    async close() {
      closed = true;
      for (const end of [...delays]) end();
      const servers = await Promise.all(listeners.values());
      const stopped = Promise.all(
        servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))),
      );
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await stopped;
    },
  };
}
