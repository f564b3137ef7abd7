/**
 * Hadoop delegation tokens from a token storage file (`HADOOP_TOKEN_FILE_LOCATION`, written by YARN into every
 * container), and their WebHDFS form (`delegation=`). The file is `HDTS`, a version byte, then either the
 * Writable form (version 0) or a length-delimited `CredentialsProto` (version 1, Hadoop 3).
 *
 * Nothing here prints a token: errors name the file and what is wrong with it, never its bytes.
 */
import { lookup } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { defaultFileSystemOf, errnoOf, type HadoopConfiguration, StorageError } from "@cluster-pack/fs";
import { type HadoopSettings, hadoopSettingsOnce, listOf } from "./hadoop-config.js";

/** One token of a token storage file. */
export interface HadoopToken {
  /** The key it is stored under (often the service, or a random alias). */
  alias: string;
  identifier: Uint8Array;
  password: Uint8Array;
  /** `HDFS_DELEGATION_TOKEN`, `WEBHDFS delegation`, `kms-dt`, … */
  kind: string;
  /** `ha-hdfs:<nameservice>`, or the `host:port` (often `ip:port`) of the server it is for. */
  service: string;
}

export const TOKEN_FILE_ENV = "HADOOP_TOKEN_FILE_LOCATION";

/** Token kinds a namenode's WebHDFS accepts in `delegation=`. */
const WEBHDFS_KINDS = ["HDFS_DELEGATION_TOKEN", "WEBHDFS delegation", "SWEBHDFS delegation"];

class Malformed extends Error {}

const utf8 = new TextDecoder();

/** Reads Hadoop's `DataInput` encodings from a byte array; running past the end is `Malformed`. */
class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  take(count: number, what: string): Uint8Array {
    if (count < 0 || count > this.remaining) {
      throw new Malformed(`${what} runs past the end of the file`);
    }
    const slice = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }

  byte(what: string): number {
    return this.take(1, what)[0] as number;
  }

  /** `WritableUtils.readVLong`: one byte for -112..127, else a length byte (sign in it) and big-endian bytes. */
  vlong(what: string): bigint {
    const first = (this.byte(what) << 24) >> 24;
    if (first >= -112) return BigInt(first);
    const negative = first < -120;
    const size = negative ? -(first + 120) : -(first + 112);
    let value = 0n;
    for (const byte of this.take(size, what)) value = (value << 8n) | BigInt(byte);
    // The bytes hold the one's complement of a negative number.
    return negative ? BigInt.asIntN(64, ~value) : BigInt.asIntN(64, value);
  }

  /** `WritableUtils.readVInt` (Hadoop 3 refuses values outside an int). */
  vint(what: string): number {
    const value = this.vlong(what);
    if (value > 2147483647n || value < -2147483648n) throw new Malformed(`${what} does not fit in an int`);
    return Number(value);
  }

  /** A vint length, then that many bytes. */
  sized(what: string): Uint8Array {
    const length = this.vint(`the length of ${what}`);
    if (length < 0) throw new Malformed(`the length of ${what} is negative (${length})`);
    return this.take(length, what);
  }

  /** `Text`: a vint length, then UTF-8. */
  text(what: string): string {
    return utf8.decode(this.sized(what));
  }

  /** A protobuf base-128 varint (at most 2^53 here: it is only used for lengths and tags). */
  varint(what: string): number {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      const byte = this.byte(what);
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) {
        if (!Number.isSafeInteger(value)) throw new Malformed(`${what} is too large`);
        return value;
      }
    }
    throw new Malformed(`${what} is not a varint`);
  }
}

/** The Token Writable: vint+identifier, vint+password, Text kind, Text service. */
function readTokenWritable(reader: Reader, alias: string): HadoopToken {
  const identifier = reader.sized("a token identifier");
  const password = reader.sized("a token password");
  const kind = reader.text("a token kind");
  const service = reader.text("a token service");
  return { alias, identifier, password, kind, service };
}

function readWritableCredentials(reader: Reader): HadoopToken[] {
  const count = reader.vint("the token count");
  if (count < 0) throw new Malformed(`the token count is negative (${count})`);
  const tokens: HadoopToken[] = [];
  for (let index = 0; index < count; index++) {
    const alias = reader.text("a token alias");
    tokens.push(readTokenWritable(reader, alias));
  }
  const secrets = reader.vint("the secret key count");
  if (secrets < 0) throw new Malformed(`the secret key count is negative (${secrets})`);
  for (let index = 0; index < secrets; index++) {
    reader.text("a secret key alias");
    reader.sized("a secret key");
  }
  return tokens;
}

/** The fields of one protobuf message, as (field number → raw bytes of each length-delimited value). */
function protoFields(bytes: Uint8Array, what: string): Map<number, Uint8Array[]> {
  const reader = new Reader(bytes);
  const fields = new Map<number, Uint8Array[]>();
  while (reader.remaining > 0) {
    const tag = reader.varint(`a field tag of ${what}`);
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) throw new Malformed(`${what} has a field numbered 0`);
    if (wireType === 0) reader.varint(`a varint of ${what}`);
    else if (wireType === 1) reader.take(8, `a fixed64 of ${what}`);
    else if (wireType === 5) reader.take(4, `a fixed32 of ${what}`);
    else if (wireType === 2) {
      const value = reader.take(reader.varint(`a field length of ${what}`), `a field of ${what}`);
      fields.set(field, [...(fields.get(field) ?? []), value]);
    } else throw new Malformed(`${what} has a field of wire type ${wireType}`);
  }
  return fields;
}

const lastOf = (fields: Map<number, Uint8Array[]>, field: number) => fields.get(field)?.at(-1);

/** `CredentialsProto { repeated CredentialsKVProto tokens = 1; repeated … secrets = 2 }`, length-delimited. */
function readProtoCredentials(reader: Reader): HadoopToken[] {
  const body = reader.take(reader.varint("the message length"), "the credentials message");
  if (reader.remaining > 0) throw new Malformed("bytes follow the credentials message");
  const tokens: HadoopToken[] = [];
  for (const entry of protoFields(body, "the credentials").get(1) ?? []) {
    // CredentialsKVProto { string alias = 1; TokenProto token = 2; bytes secret = 3 }
    const kv = protoFields(entry, "a token entry");
    const tokenBytes = lastOf(kv, 2);
    if (!tokenBytes) continue;
    // TokenProto { bytes identifier = 1; bytes password = 2; string kind = 3; string service = 4 }
    const token = protoFields(tokenBytes, "a token");
    const identifier = lastOf(token, 1);
    const password = lastOf(token, 2);
    const kind = lastOf(token, 3);
    const service = lastOf(token, 4);
    if (!identifier || !password || !kind || !service) {
      throw new Malformed("a token lacks its identifier, password, kind or service");
    }
    const alias = utf8.decode(lastOf(kv, 1) ?? new Uint8Array());
    tokens.push({ alias, identifier, password, kind: utf8.decode(kind), service: utf8.decode(service) });
  }
  return tokens;
}

const MAGIC = "HDTS";

/** Reads the tokens of a token storage file's bytes; throws a one-line StorageError naming `file` when malformed. */
export function parseTokenStorage(bytes: Uint8Array, file: string): HadoopToken[] {
  const fail = (reason: string) =>
    new StorageError("INVALID_ARGUMENT", `${file} is not a Hadoop token storage file: ${reason}`);
  const reader = new Reader(bytes);
  try {
    if (utf8.decode(reader.take(MAGIC.length, "the header")) !== MAGIC) throw new Malformed("no HDTS header");
    const version = reader.byte("the version");
    if (version === 0) return readWritableCredentials(reader);
    if (version !== 1) throw new Malformed(`unknown version ${version}`);
    const start = reader.offset;
    try {
      return readProtoCredentials(reader);
    } catch (protoFailure) {
      // Version 1 is protobuf in Hadoop 3; a Writable body under version 1 is read rather than refused.
      if (!(protoFailure instanceof Malformed)) throw protoFailure;
      reader.offset = start;
      try {
        return readWritableCredentials(reader);
      } catch {
        throw protoFailure;
      }
    }
  } catch (error) {
    if (error instanceof Malformed) throw fail(error.message);
    throw error;
  }
}

/** Reads a token storage file; a missing file is undefined, any other failure a one-line error naming it. */
export function readTokenStorageFile(file: string): HadoopToken[] | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = errnoOf(error);
    if (code === "ENOENT") return undefined;
    throw new StorageError(
      "INVALID_ARGUMENT",
      `cannot read the token file ${file} (${code ?? "read error"})`,
      {
        cause: error,
      },
    );
  }
  return parseTokenStorage(bytes, file);
}

function writeVlong(out: number[], input: number): void {
  if (input >= -112 && input <= 127) {
    out.push(input & 0xff);
    return;
  }
  let value = BigInt(input);
  let prefix = -112;
  if (value < 0n) {
    value = ~value;
    prefix = -120;
  }
  const bytes: number[] = [];
  for (let rest = value; rest !== 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn));
  out.push((prefix - bytes.length) & 0xff, ...bytes);
}

/** `Token.encodeToUrlString`: the Token Writable in URL-safe base64 without padding, as WebHDFS takes it. */
export function encodeTokenToUrlString(token: Omit<HadoopToken, "alias">): string {
  const out: number[] = [];
  const sized = (bytes: Uint8Array) => {
    writeVlong(out, bytes.length);
    out.push(...bytes);
  };
  sized(token.identifier);
  sized(token.password);
  sized(new TextEncoder().encode(token.kind));
  sized(new TextEncoder().encode(token.service));
  return Buffer.from(out).toString("base64url");
}

/** The first token for one of `services` (in order of preference) whose kind WebHDFS accepts. */
export function selectDelegationToken(
  tokens: readonly HadoopToken[],
  services: readonly string[],
): HadoopToken | undefined {
  for (const service of services) {
    const matching = tokens.filter((token) => token.service.toLowerCase() === service.toLowerCase());
    for (const kind of WEBHDFS_KINDS) {
      const found = matching.find((token) => token.kind === kind);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The token services Hadoop would name for a file system: `ha-hdfs:<ns>` (`ha-webhdfs:` for webhdfs://) for a
 * logical nameservice, else the namenode's `host:port` (RPC port for hdfs://, HTTP port for webhdfs://).
 */
export function tokenServicesOf(
  scheme: "hdfs" | "webhdfs" | "swebhdfs",
  host: string,
  port: string,
  configuration: HadoopConfiguration,
): string[] {
  const lower = host.toLowerCase();
  if (!port) {
    const logical =
      configuration.has(`dfs.ha.namenodes.${host}`) ||
      listOf(configuration.get("dfs.nameservices")).includes(host);
    if (logical) return [`ha-${scheme}:${host}`];
    const federated = configuration.get(`dfs.namenode.rpc-address.${host}`);
    if (scheme === "hdfs" && federated) return [federated.toLowerCase(), `${lower}:8020`];
  }
  const defaultPort = { hdfs: "8020", webhdfs: "9870", swebhdfs: "9871" }[scheme];
  return [`${lower}:${port || defaultPort}`];
}

/** Adds `ip:port` beside each `host:port`: Hadoop names services by IP unless hadoop.security.token.service.use_ip=false. */
async function withAddresses(services: readonly string[]): Promise<string[]> {
  const all: string[] = [];
  for (const service of services) {
    all.push(service);
    const colon = service.lastIndexOf(":");
    const host = service.slice(0, colon);
    if (colon < 0 || service.startsWith("ha-") || isIP(host)) continue;
    const addresses = await lookup(host, { all: true }).catch(() => []);
    for (const { address } of addresses) all.push(`${address}:${service.slice(colon + 1)}`);
  }
  return [...new Set(all)];
}

/** What the token file gave a file system: the token to send, the secrets to redact, or why there is none. */
export interface EnvironmentCredentials {
  /** The chosen token, URL-encoded for `delegation=`. */
  delegationToken: string | undefined;
  /** Every token of the file, URL-encoded: removed from any text a server sends back. */
  secrets: readonly string[];
  /** For a 401 when no token matched: `no delegation token for <service> in $HADOOP_TOKEN_FILE_LOCATION (…)`. */
  missingTokenHint: string | undefined;
}

function credentialsFrom(
  file: string,
  tokens: readonly HadoopToken[],
  services: readonly string[],
): EnvironmentCredentials {
  const chosen = selectDelegationToken(tokens, services);
  return {
    delegationToken: chosen && encodeTokenToUrlString(chosen),
    secrets: tokens.map(encodeTokenToUrlString),
    missingTokenHint: chosen
      ? undefined
      : `no delegation token for ${services[0] ?? "this namenode"} in $${TOKEN_FILE_ENV} (${file})`,
  };
}

function tokensFromEnvironment(): { file: string; tokens: HadoopToken[] } | undefined {
  const file = process.env[TOKEN_FILE_ENV];
  if (!file) return undefined;
  const tokens = readTokenStorageFile(file);
  return tokens && { file, tokens };
}

const schemeOf = (url: URL) => url.protocol.slice(0, -1).toLowerCase();

/**
 * The credentials `$HADOOP_TOKEN_FILE_LOCATION` holds for an `hdfs://` or `webhdfs://` URI (`hdfs:///` through
 * fs.defaultFS), or undefined when the variable is unset or names no file.
 */
export async function environmentCredentialsFor(
  uri: URL,
  namenodes: readonly string[],
  hadoop: HadoopSettings = hadoopSettingsOnce(),
): Promise<EnvironmentCredentials | undefined> {
  const found = tokensFromEnvironment();
  if (!found) return undefined;
  const { configuration } = await hadoop();
  let target = uri;
  if (!uri.hostname) {
    const defaultFs = defaultFileSystemOf(configuration);
    if (defaultFs && URL.canParse(defaultFs)) target = new URL(defaultFs);
  }
  const targetScheme = schemeOf(target);
  const scheme = targetScheme === "webhdfs" || targetScheme === "swebhdfs" ? targetScheme : "hdfs";
  const services = target.hostname
    ? tokenServicesOf(scheme, target.hostname, target.port, configuration)
    : [];
  // The HTTP addresses themselves come last: what a WebHDFS token obtained from these URLs is named after.
  const http = namenodes.filter((base) => URL.canParse(base)).map((base) => new URL(base).host.toLowerCase());
  const named = [...services, ...http];
  // Only when no token is named after the host itself are its addresses looked up.
  const candidates = selectDelegationToken(found.tokens, named) ? named : await withAddresses(named);
  return credentialsFrom(found.file, found.tokens, candidates);
}

/** The credentials `$HADOOP_TOKEN_FILE_LOCATION` holds for explicit WebHDFS URLs (their `host:port`). */
export function environmentCredentialsForUrls(
  namenodes: readonly string[],
): EnvironmentCredentials | undefined {
  const found = tokensFromEnvironment();
  if (!found) return undefined;
  const services = namenodes
    .filter((base) => URL.canParse(base))
    .map((base) => new URL(base).host.toLowerCase());
  return credentialsFrom(found.file, found.tokens, services);
}
