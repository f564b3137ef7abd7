import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { resolveFileSystem } from "@cluster-pack/fs";
import {
  execute,
  type RunningKdc,
  startKdc,
  startWebHdfsServer,
  type WebHdfsServer,
  type WebHdfsServerOptions,
  writeHadoopConfDir,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { hdfsFileSystem } from "../src/index.js";
import { caught, closedPort, setEnvironment, uniqueDirectory } from "./support.js";

// GSSAPI reads KRB5_CONFIG, KRB5CCNAME and KRB5_CLIENT_KTNAME from the environment: the test KDC's are set in
// process.env before anything loads the `kerberos` addon (this file runs in a process of its own).
let kdc: RunningKdc;
const servers: WebHdfsServer[] = [];

beforeAll(async () => {
  kdc = await startKdc();
  Object.assign(process.env, kdc.env());
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await kdc?.stop();
});

beforeEach(async () => {
  await kdc.kinit();
});

const text = (value: string) => Readable.from([Buffer.from(value)]);

/** A secure namenode (or HttpFS gateway) of its own, so no test sees another's hadoop.auth cookie. */
async function secureServer(options: WebHdfsServerOptions = {}): Promise<WebHdfsServer> {
  const server = await startWebHdfsServer({
    kerberos: { keytab: kdc.httpKeytab },
    directories: [{ path: "/user/tester", owner: "tester", permission: 0o755 }],
    ...options,
  });
  servers.push(server);
  return server;
}

/** HADOOP_CONF_DIR saying Kerberos, with fs.defaultFS on the server. */
async function useKerberizedConf(server: WebHdfsServer, extra: Record<string, string> = {}) {
  const confDir = await writeHadoopConfDir(
    { "fs.defaultFS": "hdfs://127.0.0.1:8020", "hadoop.security.authentication": "kerberos", ...extra },
    { "dfs.namenode.rpc-address": "127.0.0.1:8020", "dfs.namenode.http-address": server.namenodeAddress },
  );
  onTestFinished(setEnvironment({ HADOOP_CONF_DIR: confDir, HADOOP_TOKEN_FILE_LOCATION: undefined }));
}

const negotiations = (server: WebHdfsServer) =>
  server.requests.filter((request) => request.auth === "negotiate").length;

describe("SPNEGO against a secure WebHDFS namenode", () => {
  it("put/stat/ls/get through hdfs:/// with a ticket from kinit: the file is the principal's", async () => {
    const server = await secureServer();
    await useKerberizedConf(server);
    const { fs, path } = await resolveFileSystem("hdfs:///user/tester/envs/env.pex");
    await fs.put(text("archive bytes"), path);
    expect(server.namespace.getFileStatus("hdfs", "/user/tester/envs/env.pex").owner).toBe("tester");
    expect((await fs.stat(path)).size).toBe("archive bytes".length);
    expect((await fs.ls("/user/tester/envs")).map((entry) => entry.name)).toEqual(["env.pex"]);
    const local = join(kdc.directory, "downloaded.pex");
    await fs.get(path, local);
    expect(await readFile(local, "utf8")).toBe("archive bytes");
    // No user.name on a secure cluster; the datanode got the namenode's delegation token, without Negotiate.
    expect(server.requests.every((request) => request.params["user.name"] === undefined)).toBe(true);
    const datanode = server.requests.filter((request) => request.role === "datanode");
    expect(datanode.map((request) => request.op)).toEqual(["CREATE", "GETFILECHECKSUM", "OPEN"]);
    expect(datanode.every((request) => Boolean(request.params.delegation))).toBe(true);
  });

  it("viewfs: fs.defaultFS=viewfs:// with /user mounted on the secure namenode", async () => {
    const server = await secureServer();
    const confDir = await writeHadoopConfDir({
      "fs.defaultFS": "viewfs://cluster",
      "fs.viewfs.mounttable.cluster.link./user": `webhdfs://${server.namenodeAddress}/user`,
      "hadoop.security.authentication": "kerberos",
    });
    onTestFinished(setEnvironment({ HADOOP_CONF_DIR: confDir, HADOOP_TOKEN_FILE_LOCATION: undefined }));
    const { fs, path } = await resolveFileSystem("hdfs:///user/tester/envs/viewfs.pex");
    await fs.put(text("through the mount table"), path);
    expect(server.namespace.getFileStatus("hdfs", "/user/tester/envs/viewfs.pex").owner).toBe("tester");
    expect(fs.toUri(path)).toBe("viewfs://cluster/user/tester/envs/viewfs.pex");
    expect(negotiations(server)).toBe(1);
  });

  it("reuses the hadoop.auth cookie: a listing of many files is one Kerberos exchange", async () => {
    const server = await secureServer({ listPageSize: 10 });
    const directory = "/user/tester/many";
    server.namespace.mkdirs("tester", directory, 0o755);
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl], kerberos: true });
    for (let index = 0; index < 5; index++) await fs.put(text(`file ${index}`), `${directory}/f${index}`);
    server.clearRequests();
    for (let index = 0; index < 95; index++)
      server.namespace.mkdirs("tester", `${directory}/d${index}`, 0o755);
    const entries = await fs.ls(directory);
    expect(entries).toHaveLength(100);
    expect(server.requests.length).toBeGreaterThanOrEqual(10);
    expect(negotiations(server)).toBe(0);
    expect(server.requests.every((request) => request.auth === "cookie")).toBe(true);
  });

  it("one Negotiate for a fresh server, then the cookie", async () => {
    const server = await secureServer({ listPageSize: 2 });
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl], kerberos: true });
    await fs.ls("/");
    await fs.ls("/user");
    expect(negotiations(server)).toBe(1);
    expect(server.requests.filter((request) => request.auth === "cookie").length).toBeGreaterThan(0);
  });

  it("a cookie the server no longer takes: one new exchange, and the request succeeds", async () => {
    const server = await secureServer();
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl], kerberos: true });
    await fs.ls("/user");
    server.expireAuthCookies();
    server.clearRequests();
    expect((await fs.ls("/user")).map((entry) => entry.name)).toEqual(["tester"]);
    expect(server.requests.map((request) => request.auth)).toEqual(["none", "negotiate"]);
  });

  it("HttpFS: the gateway takes the data after SPNEGO", async () => {
    const server = await secureServer({ httpfs: true });
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl], httpfs: true, kerberos: true });
    await fs.put(text("via httpfs"), "/user/tester/httpfs.pex");
    expect(server.namespace.getFileStatus("hdfs", "/user/tester/httpfs.pex").owner).toBe("tester");
    const local = join(kdc.directory, "httpfs.pex");
    await fs.get("/user/tester/httpfs.pex", local);
    expect(await readFile(local, "utf8")).toBe("via httpfs");
    expect(negotiations(server)).toBe(1);
  });

  it("doas still goes to the server; user.name does not", async () => {
    const server = await secureServer({ proxyUsers: ["tester"] });
    server.namespace.mkdirs("hdfs", "/user/alice", 0o777);
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl], kerberos: true, doAs: "alice", user: "x" });
    await fs.put(text("as alice"), "/user/alice/env.pex");
    expect(server.namespace.getFileStatus("hdfs", "/user/alice/env.pex").owner).toBe("alice");
    expect(server.requests.some((request) => request.params["user.name"] !== undefined)).toBe(false);
    expect(server.requests[0]?.params.doas).toBe("alice");
  });

  it("HA: a standby and an active namenode each authenticate, with a cookie each", async () => {
    const active = await secureServer();
    const standby = await secureServer({ shareNamespaceWith: active, standby: true });
    const fs = hdfsFileSystem({ namenodes: [standby.namenodeUrl, active.namenodeUrl], kerberos: true });
    await fs.put(text("ha"), "/user/tester/ha.pex");
    expect(negotiations(standby)).toBe(1);
    expect(negotiations(active)).toBe(1);
    expect(active.namespace.getFileStatus("hdfs", "/user/tester/ha.pex").owner).toBe("tester");
  });

  it("without Kerberos on, the secure server answers 401 and the message says how to turn it on", async () => {
    const server = await secureServer();
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl] });
    const error = await caught(fs.stat("/user/tester"));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toContain("HTTP 401");
    expect(error.message).toMatch(/Kerberos on/);
  });
});

describe("Kerberos failures a user meets", () => {
  it("a 403 from the namenode keeps Hadoop's message", async () => {
    const server = await secureServer();
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl], kerberos: true, doAs: "alice" });
    const error = await caught(fs.stat("/user/tester"));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toBe(
      `webhdfs://${server.namenodeAddress}/user/tester: User: tester is not allowed to impersonate alice`,
    );
    expect(error.hint).toMatch(/auth_to_local/);
  });

  it("after kdestroy: one line naming the URI that says to run kinit, with a hint", async () => {
    const server = await secureServer();
    await useKerberizedConf(server);
    await kdc.kdestroy();
    const { fs, path } = await resolveFileSystem("hdfs:///user/tester/envs/env.pex");
    const error = await caught(fs.stat(path));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toBe(
      "hdfs:///user/tester/envs/env.pex: no Kerberos ticket: run kinit, or give a principal and keytab",
    );
    expect(error.hint).toMatch(/kinit/);
    expect(server.requests).toHaveLength(0);
  });

  it("an HTTP service with no principal in the KDC (an address instead of the host name)", async () => {
    const port = await closedPort();
    const fs = hdfsFileSystem({ namenodes: [`http://127.0.0.2:${port}`], kerberos: true });
    const error = await caught(fs.stat("/user/tester"));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toContain("no principal for HTTP@127.0.0.2");
    expect(error.message).toMatch(/fully qualified host name/);
  });

  it("an expired ticket says to run kinit again", async () => {
    const server = await secureServer();
    await kdc.kdestroy();
    const short = await execute(
      "kinit",
      ["-l", "2s", "-k", "-t", kdc.userKeytab, "-c", kdc.env().KRB5CCNAME, kdc.userPrincipal],
      { env: { ...process.env, ...kdc.env() } },
    );
    expect(short.code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl], kerberos: true });
    const error = await caught(fs.stat("/user/tester"));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toBe(
      `webhdfs://${server.namenodeAddress}/user/tester: the Kerberos ticket has expired: run kinit again`,
    );
    expect(error.hint).toMatch(/kinit/);
  }, 15_000);

  it("a KDC that cannot be reached", async () => {
    const server = await secureServer();
    const unreachable = join(kdc.directory, "unreachable-krb5.conf");
    await copyFile(kdc.krb5Config, unreachable);
    const conf = await readFile(unreachable, "utf8");
    await writeFile(unreachable, conf.replace(`127.0.0.1:${kdc.port}`, `127.0.0.1:${await closedPort()}`));
    onTestFinished(setEnvironment({ KRB5_CONFIG: unreachable }));
    // A ticket-granting ticket, but no service ticket for this host yet: GSSAPI must ask the KDC.
    const fs = hdfsFileSystem({
      namenodes: [`http://localhost:${server.namenodeUrl.split(":")[2]}`],
      kerberos: true,
    });
    const error = await caught(fs.stat("/user/tester"));
    expect(error.message).toMatch(
      /: cannot reach the Kerberos KDC \(Cannot contact any KDC for realm 'CLUSTER-PACK.TEST'\): check /,
    );
    expect(error.code).toBe("TRANSIENT");
  });
});

describe("a keytab login without kinit", () => {
  it("principal and keytab options", async () => {
    const server = await secureServer();
    await kdc.kdestroy();
    onTestFinished(setEnvironment({ KRB5_CLIENT_KTNAME: kdc.env().KRB5_CLIENT_KTNAME }));
    const fs = hdfsFileSystem({
      namenodes: [server.namenodeUrl],
      principal: kdc.userPrincipal,
      keytab: kdc.userKeytab,
    });
    await fs.put(text("from a keytab"), "/user/tester/keytab.pex");
    expect(server.namespace.getFileStatus("hdfs", "/user/tester/keytab.pex").owner).toBe("tester");
  });

  it("KRB5_CLIENT_KTNAME, as MIT Kerberos defines it", async () => {
    const server = await secureServer();
    await kdc.kdestroy();
    onTestFinished(setEnvironment({ KRB5_CLIENT_KTNAME: `FILE:${kdc.userKeytab}` }));
    await useKerberizedConf(server);
    const { fs, path } = await resolveFileSystem("hdfs:///user/tester/client-keytab.pex");
    await fs.put(text("client keytab"), path);
    expect(server.namespace.getFileStatus("hdfs", "/user/tester/client-keytab.pex").owner).toBe("tester");
  });
});

describe("a delegation token on a Kerberized cluster", () => {
  it("is used instead of SPNEGO, with no ticket at all", async () => {
    const server = await secureServer();
    await kdc.kdestroy();
    const issued = server.issueDelegationToken("tester", server.namenodeAddress);
    const fs = hdfsFileSystem({
      namenodes: [server.namenodeUrl],
      kerberos: true,
      delegationToken: issued.urlString,
    });
    await fs.put(text("with a token"), uniqueDirectory("token").replace("/tmp", "/user/tester"));
    expect(negotiations(server)).toBe(0);
  });
});
