import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { resolveFileSystem } from "@cluster-pack/fs";
import {
  makeTestCertificates,
  startWebHdfsServer,
  type TestCertificates,
  type WebHdfsServer,
  type WebHdfsServerOptions,
  writeHadoopConfDir,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { hdfsFileSystem } from "../src/index.js";
import { caught, setEnvironment, uniqueDirectory } from "./support.js";

// The client reads NODE_EXTRA_CA_CERTS and SSL_CERT_FILE itself, at its first https request (Node reads
// NODE_EXTRA_CA_CERTS only at process start, for its own default store): so each case sets them in this process.
let certificates: TestCertificates;
let scratch: string;
const servers: WebHdfsServer[] = [];

beforeAll(async () => {
  certificates = await makeTestCertificates();
  scratch = await mkdtemp(join(tmpdir(), "cp-https-"));
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await certificates?.dispose();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const text = (value: string) => Readable.from([Buffer.from(value)]);

async function tlsServer(options: WebHdfsServerOptions = {}): Promise<WebHdfsServer> {
  const server = await startWebHdfsServer({
    https: { key: certificates.key, cert: certificates.cert },
    ...options,
  });
  servers.push(server);
  return server;
}

/** HADOOP_CONF_DIR with dfs.http.policy=HTTPS_ONLY and the namenode's HTTPS address on the TLS server. */
async function useHttpsOnlyConf(server: WebHdfsServer, trust: Record<string, string | undefined>) {
  const confDir = await writeHadoopConfDir(
    { "fs.defaultFS": "hdfs://localhost:8020" },
    {
      "dfs.http.policy": "HTTPS_ONLY",
      "dfs.namenode.rpc-address": "localhost:8020",
      // A plain http address too: HTTPS_ONLY must not use it.
      "dfs.namenode.http-address": "localhost:1",
      "dfs.namenode.https-address": server.namenodeAddress.replace("127.0.0.1", "localhost"),
    },
  );
  onTestFinished(
    setEnvironment({
      HADOOP_CONF_DIR: confDir,
      HADOOP_TOKEN_FILE_LOCATION: undefined,
      NODE_EXTRA_CA_CERTS: undefined,
      SSL_CERT_FILE: undefined,
      ...trust,
    }),
  );
}

async function roundTrip(server: WebHdfsServer) {
  const path = `${uniqueDirectory("https")}/env.pex`;
  const { fs } = await resolveFileSystem(`hdfs://${path}`);
  await fs.put(text("archive over TLS"), path);
  expect((await fs.stat(path)).size).toBe("archive over TLS".length);
  const local = join(scratch, `${server.namenodeAddress.replace(":", "-")}.pex`);
  await fs.get(path, local);
  expect(await readFile(local, "utf8")).toBe("archive over TLS");
  // The data went to the datanode, over https as well.
  const roles = server.requests.map((request) => `${request.role} ${request.op}`);
  expect(roles).toContain("datanode CREATE");
  expect(roles).toContain("datanode OPEN");
}

describe("WebHDFS over HTTPS (dfs.http.policy=HTTPS_ONLY)", () => {
  it("puts, stats and gets with NODE_EXTRA_CA_CERTS naming the cluster's CA", async () => {
    const server = await tlsServer();
    expect(server.namenodeUrl).toMatch(/^https:/);
    expect(server.datanodeUrl).toMatch(/^https:/);
    await useHttpsOnlyConf(server, { NODE_EXTRA_CA_CERTS: certificates.caFile });
    await roundTrip(server);
  });

  it("trusts SSL_CERT_FILE in place of the system bundle, as OpenSSL does", async () => {
    const server = await tlsServer();
    await useHttpsOnlyConf(server, { SSL_CERT_FILE: certificates.caFile });
    await roundTrip(server);
  });

  it("follows the datanode's 307 redirect over https (a server that ignores noredirect)", async () => {
    const server = await tlsServer({ noredirect: false });
    await useHttpsOnlyConf(server, { NODE_EXTRA_CA_CERTS: certificates.caFile });
    await roundTrip(server);
  });

  it("serves swebhdfs:// URIs (WebHDFS over HTTPS, its port in the URI)", async () => {
    const server = await tlsServer();
    onTestFinished(setEnvironment({ NODE_EXTRA_CA_CERTS: certificates.caFile, SSL_CERT_FILE: undefined }));
    const path = `${uniqueDirectory("https")}/swebhdfs.pex`;
    const uri = `swebhdfs://localhost:${server.namenodeAddress.split(":")[1]}${path}`;
    const { fs } = await resolveFileSystem(uri);
    await fs.put(text("swebhdfs"), path);
    expect((await fs.stat(path)).size).toBe("swebhdfs".length);
    expect(fs.toUri(path)).toBe(uri);
    expect(server.requests.map((request) => `${request.role} ${request.op}`)).toContain("datanode CREATE");
  });

  it("talks to explicit https namenodes", async () => {
    const server = await tlsServer();
    onTestFinished(setEnvironment({ NODE_EXTRA_CA_CERTS: certificates.caFile, SSL_CERT_FILE: undefined }));
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl] });
    const path = `${uniqueDirectory("https")}/explicit.pex`;
    await fs.put(text("explicit"), path);
    expect((await fs.stat(path)).size).toBe("explicit".length);
  });

  it("uploads through an HttpFS gateway over https", async () => {
    const server = await tlsServer({ httpfs: true });
    onTestFinished(setEnvironment({ NODE_EXTRA_CA_CERTS: certificates.caFile, SSL_CERT_FILE: undefined }));
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl], httpfs: true });
    const path = `${uniqueDirectory("https")}/httpfs.pex`;
    await fs.put(text("httpfs over TLS"), path);
    expect((await fs.stat(path)).size).toBe("httpfs over TLS".length);
  });

  it("without the cluster's CA, fails in one line naming the URI, the CA files trusted and what to set", async () => {
    const server = await tlsServer();
    await useHttpsOnlyConf(server, {});
    const path = `${uniqueDirectory("https")}/untrusted.pex`;
    const { fs } = await resolveFileSystem(`hdfs://${path}`);
    const error = await caught(fs.put(text("never sent"), path));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toContain(
      `hdfs://${path}: cannot verify the TLS certificate of namenode https://localhost:`,
    );
    expect(error.message).toContain("set NODE_EXTRA_CA_CERTS (or SSL_CERT_FILE)");
    if (existsSync("/etc/ssl/certs/ca-certificates.crt"))
      expect(error.message).toContain("/etc/ssl/certs/ca-certificates.crt");
    expect(error.hint).toContain("NODE_EXTRA_CA_CERTS");
    expect(server.requests).toEqual([]);
  });

  it("names the CA file it read when that file is not the cluster's", async () => {
    const server = await tlsServer();
    await useHttpsOnlyConf(server, { SSL_CERT_FILE: "/nonexistent/ca.pem" });
    const path = `${uniqueDirectory("https")}/other.pex`;
    const { fs } = await resolveFileSystem(`hdfs://${path}`);
    const error = await caught(fs.stat(path));
    expect(error.message).toContain("/nonexistent/ca.pem (unreadable)");
  });
});
