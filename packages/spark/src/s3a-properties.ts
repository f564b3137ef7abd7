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
  /**
   * `fs.s3a.aws.credentials.provider`: the classes that find credentials on each node. Default: none, so that
   * the cluster's own setting, else Hadoop's default chain, applies.
   */
  credentialsProvider?: string;
  /**
   * Write the access key and secret into the properties (`fs.s3a.access.key`, …). They then appear wherever the
   * properties are printed or logged, so it takes this explicit request.
   */
  includeSecrets?: boolean;
}

export type ProcessEnv = Readonly<Record<string, string | undefined>>;

const S3A = "spark.hadoop.fs.s3a";
const ENDPOINT_KEY = `${S3A}.endpoint`;
const ACCESS_KEY_KEY = `${S3A}.access.key`;
const SECRET_KEY_KEY = `${S3A}.secret.key`;

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
 * The `spark.hadoop.fs.s3a.*` properties that let Spark's Hadoop read `s3a://` URIs and that `given` (the job's
 * own properties) does not already set: the job's settings always win, even over `options`.
 *
 * - The S3A file system, the endpoint (with path-style addressing and, for `http://`, SSL off), the region.
 * - No credentials provider unless one is asked for: Hadoop's default chain (the `fs.s3a.access.key` of
 *   `core-site.xml` or a JCEKS file, the environment, the instance role) or the cluster's own choice applies.
 * - The keys only with `includeSecrets`, with the provider that reads them.
 */
export function s3aProperties(
  options: SparkS3Options,
  env: ProcessEnv,
  given: Readonly<Record<string, string>>,
): Record<string, string> {
  const properties: Record<string, string> = {};
  const set = (key: string, value: string) => {
    if (given[key] === undefined) properties[key] = value;
  };
  set(`${S3A}.impl`, "org.apache.hadoop.fs.s3a.S3AFileSystem");
  // Path style and SSL follow from the endpoint we write; the job's own endpoint comes with its own settings.
  const endpoint = given[ENDPOINT_KEY] === undefined ? configuredEndpoint(options, env) : undefined;
  if (endpoint) {
    set(ENDPOINT_KEY, endpoint);
    // Read by Hadoop releases that take a host without a scheme as the endpoint.
    if (endpoint.startsWith("http://")) set(`${S3A}.connection.ssl.enabled`, "false");
  }
  const pathStyle = options.forcePathStyle ?? (endpoint ? true : undefined);
  if (pathStyle !== undefined) set(`${S3A}.path.style.access`, String(pathStyle));
  const region = options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION);
  if (region) set(`${S3A}.endpoint.region`, region);

  // Keys the job already has are kept as a pair: never its access key with our secret.
  const givenKeys = given[ACCESS_KEY_KEY] !== undefined || given[SECRET_KEY_KEY] !== undefined;
  if (options.includeSecrets && !givenKeys) {
    const credentials = secretCredentials(options, env);
    set(ACCESS_KEY_KEY, credentials.accessKeyId);
    set(SECRET_KEY_KEY, credentials.secretAccessKey);
    if (credentials.sessionToken) set(`${S3A}.session.token`, credentials.sessionToken);
    // Explicit, so that a cluster-wide provider that ignores fs.s3a.access.key cannot skip the keys asked for.
    set(
      `${S3A}.aws.credentials.provider`,
      options.credentialsProvider ?? (credentials.sessionToken ? TEMPORARY_PROVIDER : SIMPLE_PROVIDER),
    );
  } else if (options.credentialsProvider) set(`${S3A}.aws.credentials.provider`, options.credentialsProvider);
  return properties;
}
