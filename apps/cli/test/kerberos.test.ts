// The CLI on a Kerberized cluster: a real MIT KDC, the WebHDFS test server in secure mode (SPNEGO or its own
// delegation tokens only), and `upload-zip` to hdfs:/// with a ticket from kinit, after kdestroy, and with only a
// token file from YARN (HADOOP_TOKEN_FILE_LOCATION).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type RunningKdc,
  startKdc,
  startWebHdfsServer,
  type WebHdfsServer,
  writeHadoopConfDir,
  writeKerberizedHadoopConf,
  writeMinimalPex,
  writeTokenStorageFile,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, runCli } from "./cli-process.js";
import { createFixtureVenv } from "./fixture-env.js";

describe("cluster-pack on a Kerberized cluster", () => {
  let kdc: RunningKdc;
  let server: WebHdfsServer;
  let root: string;
  let archive: string;
  let env: NodeJS.ProcessEnv;
  const packagePath = "hdfs:///user/tester/envs/env.pex";

  beforeAll(async () => {
    kdc = await startKdc();
    // The server's side of SPNEGO runs in this process: the KDC's variables before the kerberos addon loads.
    Object.assign(process.env, kdc.env());
    server = await startWebHdfsServer({
      kerberos: { keytab: kdc.httpKeytab },
      directories: [{ path: "/user/tester", owner: "tester", permission: 0o755 }],
    });
    root = await mkdtemp(join(tmpdir(), "cp-cli-kerberos-"));
    archive = await writeMinimalPex(join(root, "env.pex"));
    const confDir = await writeKerberizedHadoopConf(server.namenodeAddress);
    // No user.name anywhere: the ticket names the user.
    env = baseEnv({ ...kdc.env(), HADOOP_CONF_DIR: confDir, HADOOP_USER_NAME: "somebody-else" });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await kdc?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("upload: with a ticket, a cache hit the second time, one line after kdestroy, --force with a token file", async () => {
    const venv = await createFixtureVenv(join(root, "shippable"));
    await kdc.kinit();
    const target = "hdfs:///user/tester/envs/team.pex";
    const args = ["upload", "--python", venv.python, "--package-path", target, "--json"];
    const first = await runCli(args, { env });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ uploaded: true, packagePath: target });
    expect(server.namespace.getFileStatus("hdfs", "/user/tester/envs/team.pex").owner).toBe("tester");
    const second = await runCli(args, { env });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ uploaded: false, packagePath: target });

    // After kdestroy: one line that says to run kinit, no stack trace.
    await kdc.kdestroy();
    const refused = await runCli(["upload", "--python", venv.python, "--package-path", target], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^error: hdfs:\/\/\/user\/tester\/envs\/team\.json: no Kerberos ticket: run kinit/,
      ),
      expect.stringMatching(/^hint: /),
    ]);
    // No ticket, as in a YARN container: the token file; upload --force packs and sends it again.
    const issued = server.issueDelegationToken("tester", "127.0.0.1:8020");
    const tokenFile = join(root, "upload_tokens");
    await writeTokenStorageFile(tokenFile, [issued], "writable");
    const forced = await runCli([...args, "--force", "--debug"], {
      env: { ...env, HADOOP_TOKEN_FILE_LOCATION: tokenFile },
    });
    expect(forced.stderr).not.toContain(issued.urlString);
    expect(forced.stdout).not.toContain(issued.urlString);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ uploaded: true, packagePath: target });
  }, 180_000);

  it("uploads with a ticket from kinit, owned by the principal's short name; the second time is up to date", async () => {
    await kdc.kinit();
    const first = await runCli(["upload-zip", archive, "--package-path", packagePath], { env });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`uploaded`);
    expect(server.namespace.getFileStatus("hdfs", "/user/tester/envs/env.pex").owner).toBe("tester");
    const second = await runCli(["upload-zip", archive, "--package-path", packagePath], { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`up to date ${packagePath}`);
    expect(server.requests.some((request) => request.params["user.name"] !== undefined)).toBe(false);
  });

  it("after kdestroy: exit 1, one error line that says to run kinit, and a hint", async () => {
    await kdc.kdestroy();
    const outcome = await runCli(["upload-zip", archive, "--package-path", packagePath, "--force"], { env });
    expect(outcome.code).toBe(1);
    const lines = outcome.stderr.trim().split("\n");
    // The first file the upload touches is the metadata beside the archive.
    expect(lines).toEqual([
      "error: hdfs:///user/tester/envs/env.json: no Kerberos ticket: run kinit, or give a principal and keytab",
      expect.stringMatching(/^hint: run kinit, or log in from a keytab/),
    ]);
  });

  it("uploads through viewfs://, with fs.defaultFS mapping /user to the secure HDFS", async () => {
    await kdc.kinit();
    const viewConf = await writeHadoopConfDir(
      {
        "fs.defaultFS": "viewfs://cluster",
        "fs.viewfs.mounttable.cluster.link./user": "hdfs://127.0.0.1:8020/user",
        "hadoop.security.authentication": "kerberos",
      },
      { "dfs.namenode.rpc-address": "127.0.0.1:8020", "dfs.namenode.http-address": server.namenodeAddress },
    );
    const target = "viewfs://cluster/user/tester/views/env.pex";
    const outcome = await runCli(["upload-zip", archive, "--package-path", target, "--json"], {
      env: { ...env, HADOOP_CONF_DIR: viewConf },
    });
    expect(outcome.stderr).toBe("");
    expect(outcome.code).toBe(0);
    expect(JSON.parse(outcome.stdout)).toMatchObject({ uploaded: true, packagePath: target });
    expect(server.namespace.getFileStatus("hdfs", "/user/tester/views/env.pex").owner).toBe("tester");
  });

  it("uploads through an HttpFS gateway (--httpfs) with a ticket", async () => {
    await kdc.kinit();
    const gateway = await startWebHdfsServer({
      kerberos: { keytab: kdc.httpKeytab },
      httpfs: true,
      directories: [{ path: "/user/tester", owner: "tester", permission: 0o755 }],
    });
    try {
      const target = `webhdfs://${gateway.namenodeAddress}/user/tester/envs/env.pex`;
      const outcome = await runCli(["upload-zip", archive, "--package-path", target, "--httpfs", "--json"], {
        env,
      });
      expect(outcome.stderr).toBe("");
      expect(outcome.code).toBe(0);
      expect(JSON.parse(outcome.stdout)).toMatchObject({ uploaded: true });
      expect(gateway.namespace.getFileStatus("hdfs", "/user/tester/envs/env.pex").owner).toBe("tester");
      expect(gateway.requests.every((request) => request.role === "namenode")).toBe(true);
    } finally {
      await gateway.stop();
    }
  });

  it("--principal and --keytab log in without kinit", async () => {
    await kdc.kdestroy();
    const outcome = await runCli(
      [
        "upload-zip",
        archive,
        "--package-path",
        packagePath,
        "--force",
        "--principal",
        kdc.userPrincipal,
        "--keytab",
        kdc.userKeytab,
      ],
      { env },
    );
    expect(outcome.stderr).toBe("");
    expect(outcome.code).toBe(0);
  });

  it("with no ticket, a token file from HADOOP_TOKEN_FILE_LOCATION; the token is never printed", async () => {
    await kdc.kdestroy();
    const issued = server.issueDelegationToken("tester", "127.0.0.1:8020");
    const tokenFile = join(root, "container_tokens");
    await writeTokenStorageFile(tokenFile, [issued], "protobuf");
    const tokenEnv = { ...env, HADOOP_TOKEN_FILE_LOCATION: tokenFile };
    const outcome = await runCli(
      ["upload-zip", archive, "--package-path", packagePath, "--force", "--debug", "--verbose"],
      { env: tokenEnv },
    );
    expect(outcome.stderr).not.toContain(issued.urlString);
    expect(outcome.stdout).not.toContain(issued.urlString);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain("uploaded");

    // A failure with --debug (a stack trace and causes) does not print it either.
    const failed = await runCli(
      ["upload-zip", join(root, "missing.pex"), "--package-path", packagePath, "--debug"],
      {
        env: tokenEnv,
      },
    );
    expect(failed.code).not.toBe(0);
    expect(failed.stderr + failed.stdout).not.toContain(issued.urlString);
  });
});
