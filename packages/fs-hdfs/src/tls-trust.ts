import { existsSync, readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { StorageError } from "@cluster-pack/fs";

/** Where distributions keep the system CA bundle (OpenSSL's default file), Debian's first. */
const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
  "/etc/ssl/cert.pem",
];

/** The CAs an https request to WebHDFS trusts, and the files they came from (for messages). */
export interface TlsTrust {
  files: string[];
  /** An undici dispatcher (an Agent whose `connect.ca` is the list) for fetch's `dispatcher` option. */
  dispatcher: object;
}

type AgentClass = new (options: {
  connect: { ca?: string[]; timeout: number };
  headersTimeout: number;
  bodyTimeout: number;
}) => object;

/**
 * The Agent class of the undici inside Node's own fetch. Node 20 exposes no `undici` module, but its global
 * dispatcher (created when fetch first runs) is an Agent of that very undici; an `undici` package of another
 * version would not be guaranteed to work with Node's fetch, so it is only the fallback when someone replaced
 * the global dispatcher.
 */
export async function agentClass(): Promise<AgentClass> {
  await fetch("data:,");
  const global = (globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalDispatcher.1")];
  const candidate = (global as { constructor?: unknown } | undefined)?.constructor;
  if (typeof candidate === "function" && candidate.name === "Agent") return candidate as AgentClass;
  const name = "undici";
  try {
    return ((await import(name)) as { Agent: AgentClass }).Agent;
  } catch {
    throw new StorageError(
      "UNKNOWN",
      "cannot trust the system CA store for https: this Node.js has no undici Agent (install the undici package)",
    );
  }
}

let cached: { key: string; trust: Promise<TlsTrust> } | undefined;

/**
 * The options of every Agent we make: a connect timeout, and no header or body timeout of undici's own, since
 * each request's stall deadline (the network policy's `stallTimeoutMs`) covers both.
 */
export const agentOptions = (connectTimeoutMs: number) => ({
  connect: { timeout: connectTimeoutMs },
  headersTimeout: 0,
  bodyTimeout: 0,
});

/**
 * Node's bundled CAs, plus the system bundle (`SSL_CERT_FILE` when set, as OpenSSL reads it, else the
 * distribution's file), plus `NODE_EXTRA_CA_CERTS`, read by us at the first https request rather than by Node at
 * start (so setting it in the same process works too). Read once per process (again only if those variables
 * change).
 */
export function tlsTrust(connectTimeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<TlsTrust> {
  const systemFile = env.SSL_CERT_FILE || SYSTEM_BUNDLES.find((file) => existsSync(file));
  const files = [systemFile, env.NODE_EXTRA_CA_CERTS].filter((file): file is string => Boolean(file));
  const key = [connectTimeoutMs, ...files].join("\n");
  if (cached?.key !== key) {
    const trust = (async () => {
      const read: string[] = [];
      const ca = [...rootCertificates];
      for (const file of files) {
        try {
          ca.push(readFileSync(file, "utf8"));
          read.push(file);
        } catch {
          read.push(`${file} (unreadable)`);
        }
      }
      const Agent = await agentClass();
      const options = agentOptions(connectTimeoutMs);
      return { files: read, dispatcher: new Agent({ ...options, connect: { ...options.connect, ca } }) };
    })();
    cached = { key, trust };
    trust.catch(() => {
      if (cached?.trust === trust) cached = undefined;
    });
  }
  return (cached as { trust: Promise<TlsTrust> }).trust;
}

/** What OpenSSL (through Node) says when it cannot verify a server's certificate. */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The OpenSSL code of a certificate failure anywhere in an error's cause chain. */
export function certificateFailureOf(error: unknown): { code: string; message: string } | undefined {
  for (let current = error, depth = 0; current && depth < 6; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === "string" && CERTIFICATE_CODES.has(code))
      return { code, message: typeof message === "string" ? message : code };
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** One line: which server's certificate failed, what was trusted, and what to set. */
export function certificateError(
  failure: { code: string; message: string },
  server: string,
  uri: string,
  trustedFiles: readonly string[],
  cause: unknown,
): StorageError {
  const trusted = trustedFiles.length
    ? `trusted Node's bundled CAs and ${trustedFiles.join(", ")}`
    : "trusted only Node's bundled CAs (no system CA file found)";
  const hostname = failure.code === "ERR_TLS_CERT_ALTNAME_INVALID";
  const detail = hostname
    ? `the TLS certificate of ${server} does not name that host (${failure.message})`
    : `cannot verify the TLS certificate of ${server} (${failure.message}); ${trusted}: set NODE_EXTRA_CA_CERTS (or SSL_CERT_FILE) to the cluster's CA file`;
  const hint = hostname
    ? "use the host name the certificate was issued for in dfs.namenode.https-address"
    : "set NODE_EXTRA_CA_CERTS (or SSL_CERT_FILE) to the PEM file of the cluster's CA";
  return new StorageError("PERMISSION_DENIED", detail, { uri, cause, hint });
}
