import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { redactUrlCredentials } from "@cluster-pack/errors";
import {
  type NetworkPolicy,
  networkPolicyOf,
  StorageError,
  type StorageLog,
  type StorageOptions,
} from "@cluster-pack/fs";

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What `resolveFileSystem` reads from `options.s3`. Every field is optional: the AWS conventions come first. */
export interface S3FileSystemOptions {
  /** Default: the SDK chain (`AWS_REGION`, the profile), then `us-east-1`. */
  region?: string;
  /** An S3-compatible store (MinIO, Ceph, s3rver). Default: `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** `endpoint/bucket/key` URLs instead of `bucket.endpoint/key`. Default: true with a custom endpoint. */
  forcePathStyle?: boolean;
  /** Default: the SDK chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, SSO, instance roles). */
  credentials?: S3Credentials;
  /** Bytes per part of a multipart upload; at least 5 MiB (default 8 MiB). */
  partSize?: number;
  /** Parts uploaded at once, each held in memory (default 4). */
  queueSize?: number;
  /** Tries per request, the first included (default: `options.network.maxAttempts`, 5). */
  maxAttempts?: number;
  /** The scheme URIs are shown with (`s3` or `s3a`); `resolveFileSystem` sets it from the URL. */
  scheme?: "s3" | "s3a";
}

/** The client configuration and transfer settings an S3 file system runs with. */
export interface S3Settings {
  clientConfig: S3ClientConfig;
  partSize: number;
  queueSize: number;
  /** How messages name the service: `the S3 endpoint http://…` or `AWS S3`. */
  endpointLabel: string;
  /** Timeouts and attempts, `maxAttempts` being the one the client runs with. */
  policy: Required<NetworkPolicy>;
  /** Where retries are reported (`--verbose`). */
  log?: StorageLog | undefined;
}

const MiB = 1024 * 1024;
export const minPartSize = 5 * MiB;
const maxPartSize = 5 * 1024 * MiB;

const invalidOption = (detail: string) => new StorageError("INVALID_ARGUMENT", `options.s3.${detail}`);

function requireInteger(name: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
    throw invalidOption(`${name} must be an integer from ${min} to ${max}, not ${value}`);
  }
}

/** The endpoint from the options or the environment, the way the AWS SDKs and CLI read it. */
function configuredEndpoint(options: S3FileSystemOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (options.endpoint) return options.endpoint;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === "true") return undefined;
  return env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
}

/** The endpoint as messages show it: no user-info, which could hold a secret. */
function endpointForMessages(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new StorageError(
      "INVALID_ARGUMENT",
      `the S3 endpoint "${redactUrlCredentials(endpoint)}" is not a URL (http://host:port)`,
      {
        cause,
      },
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new StorageError(
      "INVALID_ARGUMENT",
      `the S3 endpoint ${url.origin} must be an http:// or https:// URL`,
    );
  }
  return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
}

/**
 * The SDK's own region chain, falling back to us-east-1 where it has none (the SDK would fail every request):
 * a custom endpoint rarely cares, and `followRegionRedirects` finds a bucket's real region on AWS.
 */
function regionFromChain(): () => Promise<string> {
  let region: Promise<string> | undefined;
  return () => {
    region ??= (async () => {
      const probe = new S3Client({});
      try {
        return await probe.config.region();
      } catch {
        return "us-east-1";
      } finally {
        probe.destroy();
      }
    })();
    return region;
  };
}

/** What every adapter shares from `StorageOptions`: the network policy and the `--verbose` log. */
export type SharedStorageOptions = Pick<StorageOptions, "network" | "log">;

export function s3Settings(
  options: S3FileSystemOptions,
  shared: SharedStorageOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): S3Settings {
  requireInteger("partSize", options.partSize, minPartSize, maxPartSize);
  requireInteger("queueSize", options.queueSize, 1, 1000);
  requireInteger("maxAttempts", options.maxAttempts, 1, 100);
  const { credentials } = options;
  if (credentials && !(credentials.accessKeyId && credentials.secretAccessKey)) {
    throw invalidOption("credentials needs both accessKeyId and secretAccessKey");
  }
  const endpoint = configuredEndpoint(options, env);
  const network = networkPolicyOf(shared.network);
  const policy = { ...network, maxAttempts: options.maxAttempts ?? network.maxAttempts };
  const clientConfig: S3ClientConfig = {
    region: options.region ?? regionFromChain(),
    // S3-compatible stores serve buckets as paths; virtual hosts would need wildcard DNS for the endpoint.
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    followRegionRedirects: true,
    // The CRC checksums the SDK adds by default since 2025 are rejected or mishandled by S3-compatible stores.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Without them, an unreachable host waits for the operating system's TCP timeout (minutes) and a server
    // that stops answering holds the request forever; `socketTimeout` is the idle (stall) timeout of a socket.
    requestHandler: { connectionTimeout: policy.connectTimeoutMs, socketTimeout: policy.stallTimeoutMs },
    maxAttempts: policy.maxAttempts,
    ...(endpoint !== undefined && { endpoint }),
    ...(credentials && { credentials }),
  };
  return {
    clientConfig,
    partSize: options.partSize ?? 8 * MiB,
    queueSize: options.queueSize ?? 4,
    endpointLabel: endpoint === undefined ? "AWS S3" : `the S3 endpoint ${endpointForMessages(endpoint)}`,
    policy,
    log: shared.log,
  };
}
