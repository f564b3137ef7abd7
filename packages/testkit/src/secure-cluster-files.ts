// Files the storage and Kerberos tests write the same way: a Hadoop client configuration, one for a secure cluster
// whose namenode is the WebHDFS test server, and the smallest zipapp `upload-zip` accepts.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./python.js";

const propertiesXml = (properties: Record<string, string>) =>
  `<?xml version="1.0"?>\n<configuration>\n${Object.entries(properties)
    .map(
      ([name, value]) =>
        `  <property>\n    <name>${name}</name>\n    <value>${value}</value>\n  </property>\n`,
    )
    .join("")}</configuration>\n`;

/** Writes core-site.xml and hdfs-site.xml into a new directory, as a cluster's client configuration. */
export async function writeHadoopConfDir(
  coreSite: Record<string, string>,
  hdfsSite: Record<string, string> = {},
): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "cp-hadoop-conf-"));
  await writeFile(join(directory, "core-site.xml"), propertiesXml(coreSite));
  await writeFile(join(directory, "hdfs-site.xml"), propertiesXml(hdfsSite));
  return directory;
}

/**
 * A HADOOP_CONF_DIR with `fs.defaultFS` hdfs://127.0.0.1:8020 and Kerberos on, the namenode's web address the test
 * server's `namenodeAddress`.
 */
export function writeKerberizedHadoopConf(namenodeAddress: string): Promise<string> {
  return writeHadoopConfDir(
    { "fs.defaultFS": "hdfs://127.0.0.1:8020", "hadoop.security.authentication": "kerberos" },
    { "dfs.namenode.rpc-address": "127.0.0.1:8020", "dfs.namenode.http-address": namenodeAddress },
  );
}
/** A zipapp with no requirements that prints 1, written by Python's zipfile: a prebuilt archive to upload. */
export async function writeMinimalPex(path: string): Promise<string> {
  await run("python3", [
    "-c",
    "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n" +
      "    z.writestr('PEX-INFO', '{\"requirements\": []}')\n    z.writestr('__main__.py', 'print(1)')\n",
    path,
  ]);
  return path;
}
