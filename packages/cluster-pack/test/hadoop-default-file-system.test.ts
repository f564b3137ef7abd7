import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultStore, hadoopDefaultFileSystem } from "../src/index.js";

describe("hadoopDefaultFileSystem", () => {
  let confDir: string;

  beforeAll(async () => {
    confDir = await mkdtemp(join(tmpdir(), "cp-default-fs-"));
    await writeFile(
      join(confDir, "core-site.xml"),
      "<configuration><property><name>fs.defaultFS</name><value>hdfs://main-nn:8020</value></property></configuration>\n",
    );
  });

  afterAll(async () => {
    await rm(confDir, { recursive: true, force: true });
  });

  it("is the fs.defaultFS of the configuration Hadoop would read, the one the default store follows", async () => {
    expect(await hadoopDefaultFileSystem({ HADOOP_CONF_DIR: confDir })).toBe("hdfs://main-nn:8020");
    expect(await defaultStore({ HADOOP_CONF_DIR: confDir })).toBe("hdfs://");
  });

  it("is undefined when the configuration names none", async () => {
    expect(await hadoopDefaultFileSystem({ HADOOP_CONF_DIR: join(confDir, "missing") })).toBeUndefined();
  });
});
