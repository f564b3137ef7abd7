import { firstLine } from "@cluster-pack/errors";
// Hadoop's own configuration files: where the default file system is (`fs.defaultFS`) and, for the HDFS adapter,
// the namenodes. Read here, below every adapter, because the default store follows Hadoop's convention too.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { StorageError } from "./errors.js";

/** Hadoop properties by name, as core-site.xml and hdfs-site.xml set them. */
export type HadoopConfiguration = ReadonlyMap<string, string>;

const parser = new XMLParser({
  ignoreAttributes: true,
  // Values stay strings: "0.0.0.0:9870" or "010" must not turn into numbers.
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === "property",
});

/** Parses one `<configuration><property><name/><value/></property>…` file. */
export function parseHadoopConfiguration(xml: string, source: string): Map<string, string> {
  let document: { configuration?: { property?: Array<{ name?: unknown; value?: unknown }> } | string };
  try {
    document = parser.parse(xml);
  } catch (cause) {
    const reason = firstLine(cause);
    throw new StorageError("INVALID_ARGUMENT", `not a valid Hadoop configuration file: ${reason}`, {
      uri: source,
      cause,
    });
  }
  if (document.configuration === undefined) {
    throw new StorageError(
      "INVALID_ARGUMENT",
      "not a Hadoop configuration file (no <configuration> element)",
      {
        uri: source,
      },
    );
  }
  const properties =
    typeof document.configuration === "object" ? (document.configuration.property ?? []) : [];
  const configuration = new Map<string, string>();
  for (const property of properties) {
    const name = typeof property.name === "string" ? property.name.trim() : "";
    if (name) configuration.set(name, typeof property.value === "string" ? property.value.trim() : "");
  }
  return configuration;
}

/** Reads core-site.xml then hdfs-site.xml from a Hadoop configuration directory; a missing file is skipped. */
export async function readHadoopConfiguration(confDir: string): Promise<HadoopConfiguration> {
  const configuration = new Map<string, string>();
  for (const name of ["core-site.xml", "hdfs-site.xml"]) {
    const file = join(confDir, name);
    let xml: string;
    try {
      xml = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new StorageError(
        "INVALID_ARGUMENT",
        `cannot read Hadoop configuration: ${(error as Error).message}`,
        {
          uri: file,
          cause: error,
        },
      );
    }
    for (const [key, value] of parseHadoopConfiguration(xml, file)) configuration.set(key, value);
  }
  return configuration;
}

/** `fs.defaultFS` (or its Hadoop 1 name `fs.default.name`). */
export function defaultFileSystemOf(configuration: HadoopConfiguration): string | undefined {
  return configuration.get("fs.defaultFS") || configuration.get("fs.default.name") || undefined;
}

/** Where Hadoop distributions put the client configuration when nothing says otherwise. */
export const SYSTEM_HADOOP_CONF_DIR = "/etc/hadoop/conf";

/**
 * The directory of core-site.xml and hdfs-site.xml, found as Hadoop's scripts find it: `HADOOP_CONF_DIR`, else
 * `$HADOOP_HOME/etc/hadoop`, else `/etc/hadoop/conf` when it exists; undefined when there is none.
 */
export function hadoopConfDirOf(
  env: NodeJS.ProcessEnv = process.env,
  systemConfDir: string = SYSTEM_HADOOP_CONF_DIR,
): string | undefined {
  if (env.HADOOP_CONF_DIR) return env.HADOOP_CONF_DIR;
  if (env.HADOOP_HOME) return join(env.HADOOP_HOME, "etc", "hadoop");
  return existsSync(systemConfDir) ? systemConfDir : undefined;
}

/** The Hadoop configuration `hadoopConfDirOf(env)` points at (empty, with no `confDir`, when there is none). */
export async function readHadoopConfigurationFrom(
  env: NodeJS.ProcessEnv = process.env,
  systemConfDir: string = SYSTEM_HADOOP_CONF_DIR,
): Promise<{ confDir: string | undefined; configuration: HadoopConfiguration }> {
  const confDir = hadoopConfDirOf(env, systemConfDir);
  return { confDir, configuration: confDir ? await readHadoopConfiguration(confDir) : new Map() };
}
