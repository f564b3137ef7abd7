import { EnvUsageError } from "@cluster-pack/env-usage";

/** How Spark's Hadoop reaches S3; the field names are `@cluster-pack/fs-s3`'s, so the same object serves both. */
export interface SparkS3Options {
  /** An S3-compatible store (MinIO, Ceph). Default: `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** Default: `AWS_REGION`, then `AWS_DEFAULT_REGION`; none leaves it to Hadoop. */
  region?: string;
  /** `endpoint/bucket/key` addressing. Default: true with a custom endpoint (what S3-compatible stores want). */
  forcePathStyle?: boolean;
  /** Keys written into the properties only with `includeSecrets`. Default: `AWS_ACCESS_KEY_ID`, … */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** `fs.s3a.aws.credentials.provider`: the classes that find credentials on each node. */
  credentialsProvider?: string;
  /**
   * Write the access key and secret into the properties (`fs.s3a.access.key`, …). They then appear wherever the
   * properties are printed or logged, so it takes this explicit request.
   */
  includeSecrets?: boolean;
}

export type ProcessEnv = Readonly<Record<string, string | undefined>>;

const S3A = "spark.hadoop.fs.s3a";
export const CREDENTIALS_PROVIDER_KEY = `${S3A}.aws.credentials.provider`;

/**
 * Credentials found on each node without any secret in the job's configuration: the JVM's environment
 * (`AWS_ACCESS_KEY_ID`, … set by the cluster or a secret store), then the instance or container role. The SDK v1
 * class name is the one Hadoop 3.3 loads and Hadoop 3.4 maps to its SDK v2 equivalent.
 */
export const DEFAULT_CREDENTIALS_PROVIDER =
  "com.amazonaws.auth.EnvironmentVariableCredentialsProvider,org.apache.hadoop.fs.s3a.auth.IAMInstanceCredentialsProvider";

const SIMPLE_PROVIDER = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider";
const TEMPORARY_PROVIDER = "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider";

function configuredEndpoint(options: SparkS3Options, env: ProcessEnv): string | undefined {
  if (options.endpoint) return options.endpoint;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === "true") return undefined;
  return env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
}

function secretCredentials(options: SparkS3Options, env: ProcessEnv) {
  if (options.credentials) return options.credentials;
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = env;
  if (AWS_ACCESS_KEY_ID && AWS_SECRET_ACCESS_KEY)
    return {
      accessKeyId: AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_SECRET_ACCESS_KEY,
      ...(AWS_SESSION_TOKEN && { sessionToken: AWS_SESSION_TOKEN }),
    };
  throw new EnvUsageError(
    "no credentials to include: pass s3.credentials or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    "s3.includeSecrets",
  );
}

/**
 * The `spark.hadoop.fs.s3a.*` properties that let Spark's Hadoop read `s3a://` URIs: the S3A file system, the
 * endpoint with path-style addressing for S3-compatible stores, the region, and a credentials provider; the keys
 * themselves only when `includeSecrets` asks for them. `userProvider` is a provider the user already configured,
 * kept in place of the default.
 */
export function s3aProperties(
  options: SparkS3Options,
  env: ProcessEnv,
  userProvider: string | undefined,
): Record<string, string> {
  const properties: Record<string, string> = {
    [`${S3A}.impl`]: "org.apache.hadoop.fs.s3a.S3AFileSystem",
  };
  const endpoint = configuredEndpoint(options, env);
  if (endpoint) {
    properties[`${S3A}.endpoint`] = endpoint;
    // Read by Hadoop releases that take a host without a scheme as the endpoint.
    if (endpoint.startsWith("http://")) properties[`${S3A}.connection.ssl.enabled`] = "false";
  }
  const pathStyle = options.forcePathStyle ?? (endpoint ? true : undefined);
  if (pathStyle !== undefined) properties[`${S3A}.path.style.access`] = String(pathStyle);
  const region = options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION);
  if (region) properties[`${S3A}.endpoint.region`] = region;

  if (options.includeSecrets) {
    const credentials = secretCredentials(options, env);
    properties[`${S3A}.access.key`] = credentials.accessKeyId;
    properties[`${S3A}.secret.key`] = credentials.secretAccessKey;
    if (credentials.sessionToken) properties[`${S3A}.session.token`] = credentials.sessionToken;
    properties[CREDENTIALS_PROVIDER_KEY] =
      options.credentialsProvider ?? (credentials.sessionToken ? TEMPORARY_PROVIDER : SIMPLE_PROVIDER);
  } else {
    properties[CREDENTIALS_PROVIDER_KEY] =
      options.credentialsProvider ?? userProvider ?? DEFAULT_CREDENTIALS_PROVIDER;
  }
  return properties;
}
