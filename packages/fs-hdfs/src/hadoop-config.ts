import { type HadoopConfiguration, readHadoopConfigurationFrom, StorageError } from "@cluster-pack/fs";

export {
  defaultFileSystemOf,
  type HadoopConfiguration,
  parseHadoopConfiguration,
  readHadoopConfiguration,
} from "@cluster-pack/fs";

/** Hadoop's configuration as Hadoop finds it (`readHadoopConfigurationFrom`), asked for by each step of a resolve. */
export type HadoopSettings = () => ReturnType<typeof readHadoopConfigurationFrom>;

/** The configuration read on the first ask and shared by the later ones: one read of the files per resolve. */
export function hadoopSettingsOnce(env: NodeJS.ProcessEnv = process.env): HadoopSettings {
  let read: ReturnType<HadoopSettings> | undefined;
  return () => {
    read ??= readHadoopConfigurationFrom(env);
    return read;
  };
}

/** A comma-separated Hadoop setting (`dfs.nameservices`, `dfs.ha.namenodes.<ns>`) as its trimmed items. */
export const listOf = (value: string | undefined) =>
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
  scheme: "hdfs" | "webhdfs" | "swebhdfs",
  host: string,
  port: string,
): string[] {
  // webhdfs:// names the HTTP port itself, swebhdfs:// the HTTPS one; with dfs.http.policy=HTTPS_ONLY the
  // namenode only serves HTTPS.
  const https =
    scheme === "swebhdfs" ||
    (scheme === "hdfs" && configuration.get("dfs.http.policy")?.toUpperCase() === "HTTPS_ONLY");
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
  if (scheme !== "hdfs") return [`${protocol}://${host}:${port || defaultPort}`];

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
