// Files the Kerberos and prebuilt-archive tests write the same way: a Hadoop configuration for a secure cluster
// whose namenode is the WebHDFS test server, and the smallest zipapp `upload-zip` accepts.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./python.js";

/**
 * A HADOOP_CONF_DIR at `directory`: `fs.defaultFS` hdfs://127.0.0.1:8020 with Kerberos on, its web address the
 * test server's `namenodeAddress`.
 */
export async function writeKerberizedHadoopConf(directory: string, namenodeAddress: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  await writeFile(
    join(directory, "core-site.xml"),
    `<configuration>
  <property><name>fs.defaultFS</name><value>hdfs://127.0.0.1:8020</value></property>
  <property><name>hadoop.security.authentication</name><value>kerberos</value></property>
</configuration>
`,
  );
  await writeFile(
    join(directory, "hdfs-site.xml"),
    `<configuration>
  <property><name>dfs.namenode.rpc-address</name><value>127.0.0.1:8020</value></property>
  <property><name>dfs.namenode.http-address</name><value>${namenodeAddress}</value></property>
</configuration>
`,
  );
  return directory;
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
