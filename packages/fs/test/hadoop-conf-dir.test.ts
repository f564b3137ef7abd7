import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { defaultFileSystemOf, hadoopConfDirOf, readHadoopConfigurationFrom } from "../src/index.js";

const coreSite = (defaultFs: string) =>
  `<configuration><property><name>fs.defaultFS</name><value>${defaultFs}</value></property></configuration>`;

/** A scratch tree with a Hadoop home (etc/hadoop) and a system configuration directory, each with core-site.xml. */
async function layout() {
  const root = await mkdtemp(join(tmpdir(), "cp-hadoop-lookup-"));
  onTestFinished(() => rm(root, { recursive: true, force: true }));
  const confDir = join(root, "conf");
  const home = join(root, "hadoop-3.4.1");
  const system = join(root, "etc-hadoop-conf");
  for (const [directory, defaultFs] of [
    [confDir, "hdfs://from-conf-dir"],
    [join(home, "etc", "hadoop"), "hdfs://from-home"],
    [system, "hdfs://from-system"],
  ] as const) {
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, "core-site.xml"), coreSite(defaultFs));
  }
  return { confDir, home, system, missing: join(root, "absent") };
}

describe("finding the Hadoop configuration as Hadoop does", () => {
  it("takes HADOOP_CONF_DIR first, then $HADOOP_HOME/etc/hadoop, then /etc/hadoop/conf when it exists", async () => {
    const { confDir, home, system, missing } = await layout();
    expect(hadoopConfDirOf({ HADOOP_CONF_DIR: confDir, HADOOP_HOME: home }, system)).toBe(confDir);
    expect(hadoopConfDirOf({ HADOOP_HOME: home }, system)).toBe(join(home, "etc", "hadoop"));
    expect(hadoopConfDirOf({ HADOOP_CONF_DIR: "", HADOOP_HOME: home }, system)).toBe(
      join(home, "etc", "hadoop"),
    );
    expect(hadoopConfDirOf({}, system)).toBe(system);
    expect(hadoopConfDirOf({}, missing)).toBeUndefined();
  });

  it("reads the configuration it finds, and an empty one when there is none", async () => {
    const { confDir, home, system, missing } = await layout();
    const fsOf = async (env: NodeJS.ProcessEnv, systemDir: string) =>
      defaultFileSystemOf((await readHadoopConfigurationFrom(env, systemDir)).configuration);
    expect(await fsOf({ HADOOP_CONF_DIR: confDir, HADOOP_HOME: home }, system)).toBe("hdfs://from-conf-dir");
    expect(await fsOf({ HADOOP_HOME: home }, system)).toBe("hdfs://from-home");
    expect(await fsOf({}, system)).toBe("hdfs://from-system");
    expect(await readHadoopConfigurationFrom({}, missing)).toEqual({
      confDir: undefined,
      configuration: new Map(),
    });
  });
});
