// The optional `kerberos` addon for the standalone executable: not inside it, found beside it. Without it a
// Kerberized upload is one line saying what to install; with it (node_modules/kerberos next to the executable) the
// upload to a Kerberized WebHDFS (a real MIT KDC) goes through.
import { copyFile, mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  execute,
  type RunningKdc,
  startKdc,
  startWebHdfsServer,
  type WebHdfsServer,
  writeKerberizedHadoopConf,
  writeMinimalPex,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executable, pathWithoutNode, userEnv } from "./built-files.js";

describe("the kerberos addon beside the standalone executable", () => {
  let kdc: RunningKdc;
  let server: WebHdfsServer;
  let root: string;
  let installed: string;
  let archive: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    kdc = await startKdc();
    // The server's side of SPNEGO runs in this process: the KDC's variables before the kerberos addon loads.
    Object.assign(process.env, kdc.env());
    server = await startWebHdfsServer({
      kerberos: { keytab: kdc.httpKeytab },
      directories: [{ path: "/user/tester", owner: "tester", permission: 0o755 }],
    });
    root = await mkdtemp(join(tmpdir(), "cp-standalone-kerberos-"));
    // Where a user puts the executable: a directory of its own.
    installed = join(root, "opt", "cluster-pack");
    await mkdir(installed, { recursive: true });
    await copyFile(executable, join(installed, "cluster-pack"));
    archive = await writeMinimalPex(join(root, "env.pex"));
    const confDir = await writeKerberizedHadoopConf(server.namenodeAddress);
    env = userEnv({ ...kdc.env(), HADOOP_CONF_DIR: confDir, PATH: await pathWithoutNode(root) });
    await kdc.kinit();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await kdc?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const upload = () =>
    execute(
      join(installed, "cluster-pack"),
      ["upload-zip", archive, "--package-path", "hdfs:///user/tester/envs/env.pex", "--json"],
      { env },
    );

  it("without it: one line saying what to install (exit 2, as for any missing optional part)", async () => {
    const outcome = await upload();
    expect(outcome.code).toBe(2);
    expect(outcome.stderr.split("\n")[0]).toMatch(
      /^error: .*Kerberos is on for hdfs:\/\/\/user\/tester\/envs\/env\.json but the kerberos package cannot load \(not beside .*\/opt\/cluster-pack: run npm install kerberos@7 there\)/,
    );
  });

  it("with node_modules/kerberos beside it: the Kerberized upload goes through", async () => {
    const fsHdfs = fileURLToPath(new URL("../../../packages/fs-hdfs/package.json", import.meta.url));
    const addon = dirname(createRequire(fsHdfs).resolve("kerberos/package.json"));
    await mkdir(join(installed, "node_modules"));
    await symlink(await realpath(addon), join(installed, "node_modules", "kerberos"));
    const outcome = await upload();
    expect(outcome.stderr).toBe("");
    expect(outcome.code).toBe(0);
    expect(JSON.parse(outcome.stdout)).toMatchObject({ uploaded: true });
    expect(server.namespace.getFileStatus("hdfs", "/user/tester/envs/env.pex").owner).toBe("tester");
  });
});
