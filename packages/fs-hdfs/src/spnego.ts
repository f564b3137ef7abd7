/**
 * SPNEGO (`Authorization: Negotiate`) for WebHDFS and HttpFS, as Hadoop's clients speak it: a GSSAPI token for
 * the host-based service `HTTP@<namenode host>` from the user's ticket cache (or a client keytab), the server's
 * reply token checked, and the `hadoop.auth` cookie the server sets reused for later requests to it, so that a
 * long listing is one Kerberos exchange and not one per page.
 *
 * The GSSAPI binding is the optional `kerberos` package (a native addon), loaded on the first request and only
 * when Kerberos is on.
 */
import { firstLine } from "@cluster-pack/errors";
import { StorageError, type StorageErrorCode } from "@cluster-pack/fs";
import { importKerberosAddon } from "./kerberos-addon.js";

type KerberosModule = typeof import("kerberos");
type KerberosClient = Awaited<ReturnType<KerberosModule["initializeClient"]>>;

export interface KerberosLogin {
  /** The client principal (`user@REALM`); default: the ticket cache's. */
  principal?: string | undefined;
  /** A keytab holding `principal`'s keys: a login without kinit (MIT's client keytab, KRB5_CLIENT_KTNAME). */
  keytab?: string | undefined;
}

let loading: Promise<KerberosModule> | undefined;

/** The `kerberos` package, or a one-line error saying what to install. */
async function kerberosModule(uri: string): Promise<KerberosModule> {
  loading ??= importKerberosAddon().then((module) => {
    // CommonJS through import(): the functions may sit on `default`.
    const named = module as KerberosModule & { default?: KerberosModule };
    return typeof named.initializeClient === "function" ? named : (named.default as KerberosModule);
  });
  try {
    return await loading;
  } catch (error) {
    loading = undefined;
    throw new StorageError(
      "INVALID_ARGUMENT",
      `Kerberos is on for ${uri} but the kerberos package cannot load (${firstLine(error)}): install it (npm install kerberos; it builds against libkrb5-dev)`,
      { cause: error, hint: "install the kerberos package (npm install kerberos), or turn Kerberos off" },
    );
  }
}

const RETRY_LOGIN = "run kinit, or log in from a keytab (the hdfs principal and keytab options)";

/** A GSSAPI failure as a one-line StorageError about `uri`: what went wrong, in the user's terms, and what to do. */
export function fromGssError(error: unknown, service: string, uri: string): StorageError {
  // "Unspecified GSS failure.  Minor code may provide more information: Ticket expired": the minor status says it.
  const message = firstLine(error).replace(/^.*Minor code may provide more information:\s*/i, "");
  const host = service.slice(service.indexOf("@") + 1);
  const fail = (code: StorageErrorCode, detail: string, hint: string) =>
    new StorageError(code, detail, { uri, cause: error, hint });
  if (
    /No Kerberos credentials available|No credentials were supplied|No credentials cache found/i.test(message)
  ) {
    return fail(
      "PERMISSION_DENIED",
      "no Kerberos ticket: run kinit, or give a principal and keytab",
      RETRY_LOGIN,
    );
  }
  if (/expired/i.test(message)) {
    return fail("PERMISSION_DENIED", "the Kerberos ticket has expired: run kinit again", RETRY_LOGIN);
  }
  if (/clock skew/i.test(message)) {
    return fail(
      "PERMISSION_DENIED",
      "the clocks of this machine and the Kerberos KDC differ too much (clock skew): synchronise the clock (NTP)",
      "synchronise this machine's clock with the cluster's (chrony, ntpd)",
    );
  }
  if (/Cannot (contact|find) any KDC|Cannot find KDC|Cannot resolve network address for KDC/i.test(message)) {
    return fail(
      "TRANSIENT",
      `cannot reach the Kerberos KDC (${message}): check the network and the realm's kdc in krb5.conf`,
      "check that the KDC is up and that krb5.conf (or KRB5_CONFIG) names it",
    );
  }
  if (/not found in Kerberos database|Server .* not found/i.test(message)) {
    return fail(
      "PERMISSION_DENIED",
      `the KDC has no principal for ${service} (HTTP/${host}): name the namenode by its fully qualified host name, not an IP address or alias`,
      "use the namenode's canonical host name (as in dfs.namenode.http-address), which its HTTP/<host> principal names",
    );
  }
  if (/keytab|Key table/i.test(message)) {
    return fail("PERMISSION_DENIED", `the Kerberos keytab cannot be used: ${message}`, RETRY_LOGIN);
  }
  return fail("PERMISSION_DENIED", `Kerberos authentication for ${service} failed: ${message}`, RETRY_LOGIN);
}

/** The cookie of each server (by origin and login), shared by every file system of this process. */
const cookies = new Map<string, string>();

/** One request's credentials: headers to send, and the context that checks the server's reply token. */
export interface SpnegoAttempt {
  headers: Record<string, string>;
  usedCookie: boolean;
  client: KerberosClient | undefined;
  service: string;
}

export class Spnego {
  private readonly login: KerberosLogin;

  constructor(login: KerberosLogin) {
    this.login = login;
  }

  private key(base: string): string {
    return `${new URL(base).origin} ${this.login.principal ?? ""}`;
  }

  /** The credentials for a request to `base`: its cookie when we have one, else a fresh Negotiate token. */
  async attempt(base: string, uri: string, fresh = false): Promise<SpnegoAttempt> {
    const host = new URL(base).hostname.replace(/^\[|\]$/g, "");
    const service = `HTTP@${host}`;
    const cookie = fresh ? undefined : cookies.get(this.key(base));
    if (cookie) return { headers: { Cookie: cookie }, usedCookie: true, client: undefined, service };
    const kerberos = await kerberosModule(uri);
    const { principal, keytab } = this.login;
    // MIT Kerberos gets initial credentials from the client keytab when the cache has none for the principal.
    if (keytab) process.env.KRB5_CLIENT_KTNAME = keytab.includes(":") ? keytab : `FILE:${keytab}`;
    let client: KerberosClient;
    let token: string;
    try {
      client = await kerberos.initializeClient(service, {
        mechOID: kerberos.GSS_MECH_OID_SPNEGO,
        ...(principal && { principal }),
      });
      token = await client.step("");
    } catch (error) {
      throw fromGssError(error, service, uri);
    }
    return { headers: { Authorization: `Negotiate ${token}` }, usedCookie: false, client, service };
  }

  /** Keeps the server's `hadoop.auth` cookie and checks its reply token (mutual authentication). */
  async accept(base: string, attempt: SpnegoAttempt, response: Response, uri: string): Promise<void> {
    const setCookies = response.headers.getSetCookie?.() ?? [];
    for (const line of setCookies) {
      const pair = line.split(";")[0]?.trim() ?? "";
      if (!pair.startsWith("hadoop.auth=")) continue;
      // An empty value is the server dropping the cookie (an expired or refused one).
      if (/^hadoop\.auth="?"?$/.test(pair)) cookies.delete(this.key(base));
      else cookies.set(this.key(base), pair);
    }
    const reply = /^Negotiate\s+(\S+)/i.exec(response.headers.get("www-authenticate") ?? "")?.[1];
    if (!reply || !attempt.client || response.status >= 400) return;
    try {
      await attempt.client.step(reply);
    } catch (error) {
      await response.body?.cancel();
      throw new StorageError(
        "PERMISSION_DENIED",
        `the reply of ${attempt.service} did not pass Kerberos mutual authentication (${firstLine(error)})`,
        { uri, cause: error },
      );
    }
  }

  /** Forgets the cookie of `base` (the server refused it). */
  forget(base: string): void {
    cookies.delete(this.key(base));
  }
}
