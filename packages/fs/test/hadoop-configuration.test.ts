import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { defaultFileSystemOf, parseHadoopConfiguration, readHadoopConfiguration } from "../src/index.js";

/** A Hadoop configuration directory holding core-site.xml and hdfs-site.xml with these properties. */
async function writeHadoopConfDir(coreSite: Record<string, string>, hdfsSite: Record<string, string> = {}) {
  const directory = await mkdtemp(join(tmpdir(), "cp-hadoop-conf-"));
  const xml = (properties: Record<string, string>) =>
    `<configuration>${Object.entries(properties)
      .map(([name, value]) => `<property><name>${name}</name><value>${value}</value></property>`)
      .join("")}</configuration>`;
  await writeFile(join(directory, "core-site.xml"), xml(coreSite));
  await writeFile(join(directory, "hdfs-site.xml"), xml(hdfsSite));
  return directory;
}

describe("Hadoop configuration files", () => {
  it("reads core-site.xml then hdfs-site.xml, keeping values as trimmed strings", async () => {
    const confDir = await writeHadoopConfDir(
      { "fs.defaultFS": " hdfs://analytics ", "dfs.replication": "010" },
      { "dfs.replication": "3" },
    );
    onTestFinished(() => rm(confDir, { recursive: true, force: true }));
    const read = await readHadoopConfiguration(confDir);
    expect(defaultFileSystemOf(read)).toBe("hdfs://analytics");
    expect(read.get("dfs.replication")).toBe("3");
  });

  it("accepts Hadoop 1's fs.default.name and a missing hdfs-site.xml", async () => {
    const confDir = await writeHadoopConfDir({ "fs.default.name": "hdfs://old-nn:9000" });
    onTestFinished(() => rm(confDir, { recursive: true, force: true }));
    await rm(join(confDir, "hdfs-site.xml"));
    expect(defaultFileSystemOf(await readHadoopConfiguration(confDir))).toBe("hdfs://old-nn:9000");
  });

  it("ignores property attributes and descriptions, and reads empty values as empty strings", () => {
    const parsed = parseHadoopConfiguration(
      `<configuration>
         <property><name>a</name><value>1</value><final>true</final><description>one</description></property>
         <property><name>b</name><value/></property>
       </configuration>`,
      "/etc/hadoop/core-site.xml",
    );
    expect([...parsed]).toEqual([
      ["a", "1"],
      ["b", ""],
    ]);
  });

  it("names the file that is not a Hadoop configuration", async () => {
    const confDir = await writeHadoopConfDir({});
    onTestFinished(() => rm(confDir, { recursive: true, force: true }));
    await writeFile(join(confDir, "core-site.xml"), "<settings><a>1</a></settings>");
    await expect(readHadoopConfiguration(confDir)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: `${join(confDir, "core-site.xml")}: not a Hadoop configuration file (no <configuration> element)`,
    });
  });
});
