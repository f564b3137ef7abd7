/**
 * Hadoop delegation tokens for tests, written from the formats' descriptions (not from the reader under test):
 * the Token Writable and its `encodeToUrlString` form, a namenode-style secret manager that issues and checks
 * them, and token storage files (`HDTS`, version 0 Writable or version 1 protobuf) as YARN writes them.
 */
import { createHmac, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";

/** The four parts of a Hadoop `Token`. */
export interface HadoopTokenParts {
  identifier: Buffer;
  password: Buffer;
  kind: string;
  service: string;
}

/** A token and the alias it is stored under in a token file (default: its service). */
export interface StoredToken extends HadoopTokenParts {
  alias?: string;
}

/**
 * Hadoop's zero-compressed `WritableUtils.writeVLong`: -112..127 in one byte; otherwise a first byte saying the
 * sign and how many bytes follow (-113..-120 positive, -121..-128 negative, whose one's complement is stored),
 * then the magnitude big-endian with no leading zero bytes.
 */
export function encodeHadoopVLong(value: bigint | number): Buffer {
  let number = BigInt(value);
  if (number >= -112n && number <= 127n) return Buffer.from([Number(BigInt.asUintN(8, number))]);
  const negative = number < 0n;
  if (negative) number = -number - 1n;
  const magnitude: number[] = [];
  while (number > 0n) {
    magnitude.push(Number(number % 256n));
    number /= 256n;
  }
  magnitude.reverse();
  const first = (negative ? -120 : -112) - magnitude.length;
  return Buffer.from([first + 256, ...magnitude]);
}

const withLength = (bytes: Buffer) => Buffer.concat([encodeHadoopVLong(bytes.length), bytes]);
/** Hadoop's `Text` Writable: vint byte length, then UTF-8. */
export const encodeHadoopText = (text: string) => withLength(Buffer.from(text, "utf8"));

/** The Token Writable: identifier and password (each vint-length-prefixed), Text kind, Text service. */
export function encodeTokenWritable(token: HadoopTokenParts): Buffer {
  return Buffer.concat([
    withLength(token.identifier),
    withLength(token.password),
    encodeHadoopText(token.kind),
    encodeHadoopText(token.service),
  ]);
}

/** `Token.encodeToUrlString`: the Token Writable in URL-safe base64, no padding (what WebHDFS takes). */
export const tokenUrlString = (token: HadoopTokenParts) => encodeTokenWritable(token).toString("base64url");

/** The Writable body (version 0): vint count, (Text alias, Token) each, then vint count of secret keys. */
function writableCredentials(tokens: readonly StoredToken[], secrets: Record<string, Buffer>): Buffer {
  const parts = [encodeHadoopVLong(tokens.length)];
  for (const token of tokens)
    parts.push(encodeHadoopText(token.alias ?? token.service), encodeTokenWritable(token));
  parts.push(encodeHadoopVLong(Object.keys(secrets).length));
  for (const [alias, secret] of Object.entries(secrets))
    parts.push(encodeHadoopText(alias), withLength(secret));
  return Buffer.concat(parts);
}

function protoVarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A length-delimited protobuf field (wire type 2). */
const protoField = (field: number, value: Buffer | string) => {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([protoVarint(field * 8 + 2), protoVarint(bytes.length), bytes]);
};

/**
 * The protobuf body (version 1), as `writeDelimitedTo` writes it: a varint length, then
 * CredentialsProto { repeated CredentialsKVProto tokens = 1; repeated CredentialsKVProto secrets = 2 } with
 * CredentialsKVProto { alias = 1; TokenProto token = 2; bytes secret = 3 } and
 * TokenProto { identifier = 1; password = 2; kind = 3; service = 4 }.
 */
function protoCredentials(tokens: readonly StoredToken[], secrets: Record<string, Buffer>): Buffer {
  const entries = tokens.map((token) =>
    protoField(
      1,
      Buffer.concat([
        protoField(1, token.alias ?? token.service),
        protoField(
          2,
          Buffer.concat([
            protoField(1, token.identifier),
            protoField(2, token.password),
            protoField(3, token.kind),
            protoField(4, token.service),
          ]),
        ),
      ]),
    ),
  );
  const secretEntries = Object.entries(secrets).map(([alias, secret]) =>
    protoField(2, Buffer.concat([protoField(1, alias), protoField(3, secret)])),
  );
  const message = Buffer.concat([...entries, ...secretEntries]);
  return Buffer.concat([protoVarint(message.length), message]);
}

export type TokenStorageFormat = "writable" | "protobuf";

/** The bytes of a token storage file: `HDTS`, version 0 (Writable) or 1 (protobuf), then the credentials. */
export function tokenStorageBytes(
  tokens: readonly StoredToken[],
  format: TokenStorageFormat,
  secrets: Record<string, Buffer> = {},
): Buffer {
  const body =
    format === "writable" ? writableCredentials(tokens, secrets) : protoCredentials(tokens, secrets);
  return Buffer.concat([Buffer.from("HDTS"), Buffer.from([format === "writable" ? 0 : 1]), body]);
}

/** Writes a token storage file, as YARN does for HADOOP_TOKEN_FILE_LOCATION. */
export async function writeTokenStorageFile(
  path: string,
  tokens: readonly StoredToken[],
  format: TokenStorageFormat,
  secrets: Record<string, Buffer> = {},
): Promise<void> {
  await writeFile(path, tokenStorageBytes(tokens, format, secrets));
}

/** A token issued by the test namenode: its parts and the `delegation=` form. */
export interface IssuedDelegationToken extends HadoopTokenParts {
  urlString: string;
}

/** Reads Writable values back, for the server side of `delegation=`. */
class WritableReader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  vlong(): bigint {
    const first = this.bytes.readInt8(this.offset++);
    if (first >= -112) return BigInt(first);
    const negative = first < -120;
    const count = negative ? -120 - first : -112 - first;
    if (this.offset + count > this.bytes.length) throw new Error("truncated");
    let value = 0n;
    for (let index = 0; index < count; index++) value = value * 256n + BigInt(this.bytes[this.offset++] ?? 0);
    return negative ? -value - 1n : value;
  }

  bytesField(): Buffer {
    const length = Number(this.vlong());
    if (length < 0 || this.offset + length > this.bytes.length) throw new Error("bad length");
    const value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  text(): string {
    return this.bytesField().toString("utf8");
  }

  get done(): boolean {
    return this.offset === this.bytes.length;
  }
}

/** Decodes `Token.encodeToUrlString`; undefined when it is not a token. */
export function decodeTokenUrlString(urlString: string): HadoopTokenParts | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(urlString)) return undefined;
  try {
    const reader = new WritableReader(Buffer.from(urlString, "base64url"));
    const token = {
      identifier: reader.bytesField(),
      password: reader.bytesField(),
      kind: reader.text(),
      service: reader.text(),
    };
    return reader.done ? token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Issues and checks delegation tokens like a namenode's secret manager: the identifier is a
 * DelegationTokenIdentifier Writable (version byte 0, Text owner, renewer, realUser, vlong issue and max dates,
 * vint sequence number and master key id) and the password its HMAC-SHA1 under a secret key.
 */
export class DelegationTokenSecretManager {
  private readonly key = randomBytes(20);
  private readonly keyId = 1;
  private sequence = 0;
  private readonly issued = new Map<string, string>();

  issue(owner: string, service: string, kind = "HDFS_DELEGATION_TOKEN"): IssuedDelegationToken {
    const now = Date.now();
    const identifier = Buffer.concat([
      Buffer.from([0]),
      encodeHadoopText(owner),
      encodeHadoopText("yarn"),
      encodeHadoopText(""),
      encodeHadoopVLong(now),
      encodeHadoopVLong(now + 7 * 24 * 3600 * 1000),
      encodeHadoopVLong(++this.sequence),
      encodeHadoopVLong(this.keyId),
    ]);
    const password = createHmac("sha1", this.key).update(identifier).digest();
    this.issued.set(identifier.toString("hex"), owner);
    const parts = { identifier, password, kind, service };
    return { ...parts, urlString: tokenUrlString(parts) };
  }

  /** The owner of a `delegation=` value this manager issued (any kind or service), else undefined. */
  ownerOf(urlString: string): string | undefined {
    const token = decodeTokenUrlString(urlString);
    if (!token) return undefined;
    const owner = this.issued.get(token.identifier.toString("hex"));
    const expected = createHmac("sha1", this.key).update(token.identifier).digest();
    return owner !== undefined && expected.equals(token.password) ? owner : undefined;
  }
}

const managers = new WeakMap<object, DelegationTokenSecretManager>();

/** One secret manager per namespace: the namenodes of an HA pair accept each other's tokens, as in Hadoop. */
export function secretManagerFor(namespace: object): DelegationTokenSecretManager {
  const known = managers.get(namespace) ?? new DelegationTokenSecretManager();
  managers.set(namespace, known);
  return known;
}
