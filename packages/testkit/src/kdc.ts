/**
 * A real MIT Kerberos KDC for tests: Debian's `krb5kdc` (krb5-kdc) serving a throwaway realm whose database,
 * configuration, keytabs and credential cache live in a fresh temporary directory, listening on 127.0.0.1 only
 * (an OS-chosen port, TCP and UDP). Principals are made with `kadmin.local` (krb5-admin-server), tickets with
 * `kinit` (krb5-user). Clients and servers find it through the variables of `env()`: the machine's
 * /etc/krb5.conf, system KDC and default caches are never used.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execute } from "./execute.js";

export interface KdcOptions {
  /** The realm (default `CLUSTER-PACK.TEST`). */
  realm?: string;
  /** The user principal's name, without the realm (default `tester`). */
  user?: string;
  /** How long to wait for the KDC to accept connections (default 15 s). */
  startTimeoutMs?: number;
}

/** The variables a Kerberos client or server (libkrb5, GSSAPI, kinit) reads to use the test KDC. */
export interface KdcEnvironment {
  /** The test realm's krb5.conf, replacing /etc/krb5.conf. */
  KRB5_CONFIG: string;
  /** The credential cache `kinit` fills and `kdestroy` empties (`FILE:<path>`). */
  KRB5CCNAME: string;
  /** The acceptor keytab: `HTTP/localhost` and `HTTP/127.0.0.1` (`FILE:<path>`). */
  KRB5_KTNAME: string;
  /** A client keytab that never exists, so GSSAPI cannot get a ticket behind the cache's back. */
  KRB5_CLIENT_KTNAME: string;
  /** The acceptor's replay cache directory, inside the temporary directory. */
  KRB5RCACHEDIR: string;
}

export interface RunningKdc {
  realm: string;
  /** The port krb5kdc listens on at 127.0.0.1, TCP and UDP. */
  port: number;
  /** The temporary directory holding the database, configuration, keytabs and cache. */
  directory: string;
  /** Path of the clients' krb5.conf (what `KRB5_CONFIG` names). */
  krb5Config: string;
  /** `<user>@<realm>`, with its keys in `userKeytab`. */
  userPrincipal: string;
  userKeytab: string;
  /** `HTTP/localhost@<realm>` and `HTTP/127.0.0.1@<realm>`, both in `httpKeytab` (what `KRB5_KTNAME` names). */
  httpPrincipals: readonly string[];
  httpKeytab: string;
  /** The variables to merge into a process's environment (`{ ...process.env, ...kdc.env() }`). */
  env(): KdcEnvironment;
  /**
   * Gets a ticket-granting ticket for `principal` (default: the user) with its keytab (default: the one
   * `addPrincipal` or start-up wrote for it) into the cache of `env()`, replacing what was there.
   */
  kinit(principal?: string, keytab?: string): Promise<void>;
  /** Destroys the cache of `env()` (nothing happens when there is none). */
  kdestroy(): Promise<void>;
  /** Adds a principal with random keys (`name` with or without `@<realm>`) and returns the path of its keytab. */
  addPrincipal(name: string): Promise<string>;
  /** Stops krb5kdc and deletes the temporary directory. */
  stop(): Promise<void>;
}

const DEFAULT_REALM = "CLUSTER-PACK.TEST";
/** kdb5_util, kadmin.local and krb5kdc live in /usr/sbin, which a user's PATH often lacks. */
const sbin = (command: string) => (existsSync(`/usr/sbin/${command}`) ? `/usr/sbin/${command}` : command);
const POLL_INTERVAL_MS = 50;
const STOP_TIMEOUT_MS = 5_000;

/** Starts krb5kdc for a new realm with a user and the HTTP service principals of loopback. */
export async function startKdc(options: KdcOptions = {}): Promise<RunningKdc> {
  const realm = options.realm ?? DEFAULT_REALM;
  const user = options.user ?? "tester";
  const directory = await mkdtemp(join(tmpdir(), "cp-kdc-"));
  let kdc: ChildProcess | undefined;
  let stopped = false;
  // A process that exits without stop() takes its KDC and files along (exit handlers must be synchronous).
  const killOnExit = () => {
    kdc?.kill("SIGKILL");
    rmSync(directory, { recursive: true, force: true });
  };
  process.on("exit", killOnExit);

  const path = (name: string) => join(directory, name);
  const krb5Config = path("krb5.conf");
  const kdcConfig = path("kdc.conf");
  const cache = `FILE:${path("ccache")}`;
  const httpKeytab = path("http.keytab");
  const keytabs = new Map<string, string>();
  const qualify = (name: string) => (name.includes("@") ? name : `${name}@${realm}`);
  const adminEnv = () => ({ ...process.env, KRB5_CONFIG: krb5Config, KRB5_KDC_PROFILE: kdcConfig });
  const env = (): KdcEnvironment => ({
    KRB5_CONFIG: krb5Config,
    KRB5CCNAME: cache,
    KRB5_KTNAME: `FILE:${httpKeytab}`,
    KRB5_CLIENT_KTNAME: `FILE:${path("no-client.keytab")}`,
    KRB5RCACHEDIR: path("rcache"),
  });
  const clientEnv = () => ({ ...process.env, ...env() });

  const kadmin = async (query: string) => {
    const outcome = await execute(sbin("kadmin.local"), ["-r", realm, "-q", query], { env: adminEnv() });
    // kadmin.local exits 0 when a query fails: a query succeeded when it wrote nothing to stderr.
    if (outcome.code !== 0 || outcome.stderr.trim() !== "") {
      throw new Error(`kadmin.local -q '${query}' failed: ${(outcome.stderr || outcome.stdout).trim()}`);
    }
  };
  const addPrincipals = async (names: readonly string[], keytab: string) => {
    for (const name of names) {
      await kadmin(`addprinc -randkey -clearpolicy ${name}`);
      await kadmin(`ktadd -k ${keytab} ${name}`);
      keytabs.set(name, keytab);
    }
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", killOnExit);
    const child = kdc;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(directory, { recursive: true, force: true });
  };

  // kdb5_util and kadmin.local need the configuration but not the port, which is chosen last: the time between
  // freeing it and krb5kdc binding it is a few milliseconds.
  const writeConfigs = async (address?: string) => {
    const listen = address ? `kdc_listen = ${address}\n        kdc_tcp_listen = ${address}` : "";
    await writeFile(
      kdcConfig,
      `[realms]
    ${realm} = {
        database_name = ${path("principal")}
        key_stash_file = ${path("stash")}
        acl_file = ${path("kadm5.acl")}
        max_life = 1h
        max_renewable_life = 1h
        ${listen}
    }

[logging]
    kdc = FILE:${path("kdc.log")}
    admin_server = FILE:${path("kadmin.log")}
    default = FILE:${path("krb5.log")}
`,
    );
    await writeFile(
      krb5Config,
      `[libdefaults]
    default_realm = ${realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    default_ccache_name = ${cache}

[realms]
    ${realm} = {
        ${address ? `kdc = ${address}` : ""}
    }

[domain_realm]
    localhost = ${realm}
    127.0.0.1 = ${realm}
`,
    );
  };

  try {
    await writeConfigs();
    await writeFile(path("kadm5.acl"), "");
    await mkdir(path("rcache"));

    const master = randomBytes(24).toString("base64url");
    const created = await execute(sbin("kdb5_util"), ["-r", realm, "create", "-s", "-P", master], {
      env: adminEnv(),
    });
    if (created.code !== 0) throw new Error(`kdb5_util create failed: ${created.stderr.trim()}`);

    const userPrincipal = qualify(user);
    const userKeytab = path("user.keytab");
    await addPrincipals([userPrincipal], userKeytab);
    const httpPrincipals = [qualify("HTTP/localhost"), qualify("HTTP/127.0.0.1")];
    await addPrincipals(httpPrincipals, httpKeytab);

    const port = await freeTcpAndUdpPort();
    await writeConfigs(`127.0.0.1:${port}`);
    // setpriv (util-linux) makes the kernel kill krb5kdc when this process dies, even by SIGKILL; the exit
    // handler covers a normal exit. -n keeps krb5kdc in the foreground, as this process's child.
    const child = spawn("setpriv", ["--pdeathsig", "KILL", "--", sbin("krb5kdc"), "-n", "-r", realm], {
      env: adminEnv(),
      stdio: ["ignore", "ignore", "pipe"],
    });
    kdc = child;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<never>((_, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => {
        reject(new Error(`krb5kdc exited (${signal ?? `code ${code}`}): ${stderr.trim()}`));
      });
    });
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port, options.startTimeoutMs ?? 15_000), exited]);

    return {
      realm,
      port,
      directory,
      krb5Config,
      userPrincipal,
      userKeytab,
      httpPrincipals,
      httpKeytab,
      env,
      async kinit(principal = userPrincipal, keytab) {
        const name = qualify(principal);
        const file = keytab ?? keytabs.get(name);
        if (file === undefined)
          throw new Error(`no keytab for ${name}: pass one, or make it with addPrincipal`);
        const outcome = await execute("kinit", ["-k", "-t", file, "-c", cache, name], { env: clientEnv() });
        if (outcome.code !== 0) throw new Error(`kinit ${name} failed: ${outcome.stderr.trim()}`);
      },
      async kdestroy() {
        const outcome = await execute("kdestroy", ["-q", "-c", cache], { env: clientEnv() });
        if (outcome.code !== 0 && !/No credentials cache found/i.test(outcome.stderr)) {
          throw new Error(`kdestroy failed: ${outcome.stderr.trim()}`);
        }
      },
      async addPrincipal(name) {
        const principal = qualify(name);
        const keytab = path(`${principal.replace(/[^A-Za-z0-9._-]/g, "_")}.keytab`);
        await addPrincipals([principal], keytab);
        return keytab;
      },
      stop,
    };
  } catch (error) {
    const log = await readFile(path("kdc.log"), "utf8").catch(() => "");
    await stop();
    if (log && error instanceof Error) error.message += `\nkdc.log:\n${log.trim()}`;
    throw error;
  }
}

/** A port that is free on 127.0.0.1 for both TCP and UDP (krb5kdc listens on both). */
async function freeTcpAndUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket("udp4");
      socket.once("error", () => {
        socket.close();
        resolve(false);
      });
      socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error("found no port free for both TCP and UDP on 127.0.0.1");
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; rejects after `timeoutMs`. */
async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() >= deadline)
      throw new Error(`krb5kdc did not listen on 127.0.0.1:${port} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
