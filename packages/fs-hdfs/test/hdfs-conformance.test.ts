import { rm } from "node:fs/promises";
import { describeFileSystem } from "@cluster-pack/fs/testing";
import { startWebHdfsServer, writeHadoopConfDir } from "@cluster-pack/testkit";
import { setEnvironment, uniqueDirectory } from "./support.js";

// Every variant resolves its URIs through resolveFileSystem, which imports @cluster-pack/fs-hdfs lazily.

describeFileSystem("webhdfs", async () => {
  const server = await startWebHdfsServer();
  return {
    baseUri: `webhdfs://${server.namenodeAddress}${uniqueDirectory("webhdfs")}`,
    options: { hdfs: { user: "alice" } },
    cleanup: () => server.stop(),
  };
});

describeFileSystem("hdfs:/// from HADOOP_CONF_DIR", async () => {
  const server = await startWebHdfsServer();
  // The RPC address is never dialled: hdfs-site.xml maps it to the namenode's HTTP address.
  const confDir = await writeHadoopConfDir(
    { "fs.defaultFS": "hdfs://namenode.invalid:8020" },
    {
      "dfs.namenode.rpc-address": "namenode.invalid:8020",
      "dfs.namenode.http-address": server.namenodeAddress,
    },
  );
  const restore = setEnvironment({ HADOOP_CONF_DIR: confDir, HADOOP_USER_NAME: "carol" });
  return {
    baseUri: `hdfs://${uniqueDirectory("default-fs")}`,
    cleanup: async () => {
      restore();
      await server.stop();
      await rm(confDir, { recursive: true, force: true });
    },
  };
});

describeFileSystem("hdfs://nameservice whose first namenode is a standby (HA failover)", async () => {
  const active = await startWebHdfsServer();
  const standby = await startWebHdfsServer({ standby: true, shareNamespaceWith: active });
  const confDir = await writeHadoopConfDir(
    { "fs.defaultFS": "hdfs://analytics" },
    {
      "dfs.nameservices": "analytics",
      "dfs.ha.namenodes.analytics": "nn1, nn2",
      "dfs.namenode.rpc-address.analytics.nn1": "nn1.invalid:8020",
      "dfs.namenode.rpc-address.analytics.nn2": "nn2.invalid:8020",
      "dfs.namenode.http-address.analytics.nn1": standby.namenodeAddress,
      "dfs.namenode.http-address.analytics.nn2": active.namenodeAddress,
    },
  );
  const restore = setEnvironment({ HADOOP_CONF_DIR: confDir, HADOOP_USER_NAME: "erin" });
  return {
    baseUri: `hdfs://analytics${uniqueDirectory("ha")}`,
    cleanup: async () => {
      restore();
      await standby.stop();
      await active.stop();
      await rm(confDir, { recursive: true, force: true });
    },
  };
});

describeFileSystem("HttpFS gateway without LISTSTATUS_BATCH", async () => {
  const server = await startWebHdfsServer({ httpfs: true, listStatusBatch: false });
  return {
    baseUri: `webhdfs://${server.namenodeAddress}${uniqueDirectory("httpfs")}`,
    options: { hdfs: { user: "dave", httpfs: true } },
    cleanup: () => server.stop(),
  };
});
