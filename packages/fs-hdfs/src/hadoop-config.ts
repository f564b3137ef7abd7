import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { StorageError } from "@cluster-pack/fs";
import { XMLParser } from "fast-xml-parser";

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
    const reason = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
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

const listOf = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

function splitAddress(address: string): { host: string; port: string } {
  const colon = address.lastIndexOf(":");
  return colon < 0
    ? { host: address, port: "" }
    : { host: address.slice(0, colon), port: address.slice(colon + 1) };
}

const isWildcard = (host: string) => host === "0.0.0.0" || host === "::" || host === "[::]" || host === "";

/**
 * The WebHDFS base URLs (`http://nn1:9870`, in HA order) that serve an `hdfs://` or `webhdfs://` authority,
 * looked up the way Hadoop clients do: a nameservice expands to its namenodes
 * (`dfs.ha.namenodes.<ns>` + `dfs.namenode.http-address.<ns>.<nn>`); `host:rpcport` maps to the
 * http-address whose rpc-address matches; otherwise the namenode's default HTTP port on that host.
 */
export function webHdfsUrlsFor(
  configuration: HadoopConfiguration,
  scheme: "hdfs" | "webhdfs",
  host: string,
  port: string,
): string[] {
  // webhdfs:// names the HTTP port itself; with dfs.http.policy=HTTPS_ONLY the namenode only serves HTTPS.
  const https = scheme === "hdfs" && configuration.get("dfs.http.policy")?.toUpperCase() === "HTTPS_ONLY";
  const addressKey = https ? "dfs.namenode.https-address" : "dfs.namenode.http-address";
  const protocol = https ? "https" : "http";
  const defaultPort = https ? "9871" : "9870";
  const toUrl = (address: string, fallbackHost: string) => {
    const parsed = splitAddress(address);
    // A wildcard bind address means "every interface of the namenode host".
    return `${protocol}://${isWildcard(parsed.host) ? fallbackHost : parsed.host}:${parsed.port || defaultPort}`;
  };

  if (!port) {
    const nameservice = host;
    const namenodeIds = listOf(configuration.get(`dfs.ha.namenodes.${nameservice}`));
    if (namenodeIds.length > 0) {
      return namenodeIds.map((id) => {
        const rpcHost = splitAddress(
          configuration.get(`dfs.namenode.rpc-address.${nameservice}.${id}`) ?? "",
        ).host;
        const http = configuration.get(`${addressKey}.${nameservice}.${id}`);
        if (http) return toUrl(http, rpcHost);
        if (rpcHost) return `${protocol}://${rpcHost}:${defaultPort}`;
        throw new StorageError(
          "INVALID_ARGUMENT",
          `nameservice ${nameservice} lists namenode ${id} without ${addressKey}.${nameservice}.${id} or dfs.namenode.rpc-address.${nameservice}.${id}`,
        );
      });
    }
    const federated = configuration.get(`${addressKey}.${nameservice}`);
    if (federated) return [toUrl(federated, host)];
  }
  if (scheme === "webhdfs") return [`http://${host}:${port || defaultPort}`];

  const rpcAddress = `${host}:${port || "8020"}`.toLowerCase();
  for (const [key, value] of configuration) {
    if (!key.startsWith("dfs.namenode.rpc-address") || value.toLowerCase() !== rpcAddress) continue;
    const http = configuration.get(`${addressKey}${key.slice("dfs.namenode.rpc-address".length)}`);
    if (http) return [toUrl(http, host)];
  }
  const plain = configuration.get(addressKey);
  if (plain) {
    const parsed = splitAddress(plain);
    if (isWildcard(parsed.host) || parsed.host.toLowerCase() === host.toLowerCase())
      return [toUrl(plain, host)];
  }
  return [`${protocol}://${host}:${defaultPort}`];
}
