import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { resolveFileSystem, StorageError } from "@cluster-pack/fs";
import {
  encodeHadoopText,
  encodeHadoopVLong,
  type StoredToken,
  startWebHdfsServer,
  tokenStorageBytes,
  tokenUrlString,
  type WebHdfsServer,
  writeHadoopConfDir,
  writeTokenStorageFile,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  encodeTokenToUrlString,
  type HadoopToken,
  hdfsFileSystem,
  parseTokenStorage,
  readTokenStorageFile,
  selectDelegationToken,
  tokenServicesOf,
} from "../src/index.js";
import { caught, setEnvironment, uniqueDirectory } from "./support.js";

const directory = await mkdtemp(join(tmpdir(), "cp-tokens-"));
let files = 0;
const tokenFile = () => join(directory, `tokens-${++files}`);

async function writeBytes(bytes: Uint8Array): Promise<string> {
  const file = tokenFile();
  await writeFile(file, bytes);
  return file;
}

const token = (
  service: string,
  kind = "HDFS_DELEGATION_TOKEN",
  size = 8,
): StoredToken & { alias: string } => ({
  alias: service,
  identifier: Buffer.from(Array.from({ length: size }, (_, index) => (index * 37 + size) % 256)),
  password: Buffer.from(Array.from({ length: 20 }, (_, index) => (255 - index * 7) % 256)),
  kind,
  service,
});

const partsOf = (read: HadoopToken) => ({
  alias: read.alias,
  identifier: Buffer.from(read.identifier),
  password: Buffer.from(read.password),
  kind: read.kind,
  service: read.service,
});

function failureOf(action: () => unknown): StorageError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    const storageError = error as StorageError;
    expect(storageError.message).not.toContain("\n");
    return storageError;
  }
  throw new Error("expected a failure");
}

/** The file's header and one token with its alias, followed by `rest` (the token's raw Writable fields). */
const writableFile = (...rest: Buffer[]) =>
  Buffer.concat([
    Buffer.from("HDTS"),
    Buffer.from([0]),
    encodeHadoopVLong(1),
    encodeHadoopText("a"),
    ...rest,
  ]);

describe("token storage files", () => {
  const tokens = [
    token("ha-hdfs:analytics", "HDFS_DELEGATION_TOKEN", 300),
    token("10.1.2.3:8032", "RM_DELEGATION_TOKEN"),
    { ...token("nn.example:9870", "WEBHDFS delegation", 70_000), alias: "web ünïcode" },
  ];

  it.each(["writable", "protobuf"] as const)(
    "reads every token of the %s form, with secret keys after them",
    async (format) => {
      const file = tokenFile();
      await writeTokenStorageFile(file, tokens, format, { "spark.secret": Buffer.from("s3cr3t") });
      expect(readTokenStorageFile(file)?.map(partsOf)).toEqual(tokens);
    },
  );

  it("reads a Writable body under version 1, which Hadoop 2 clients also wrote", () => {
    const writable = tokenStorageBytes(tokens, "writable");
    writable[4] = 1;
    expect(parseTokenStorage(writable, "v1-writable").map(partsOf)).toEqual(tokens);
  });

  it("reads an empty file of each form, and a missing file as none", async () => {
    expect(parseTokenStorage(tokenStorageBytes([], "writable"), "empty")).toEqual([]);
    expect(parseTokenStorage(tokenStorageBytes([], "protobuf"), "empty")).toEqual([]);
    expect(readTokenStorageFile(join(directory, "absent"))).toBeUndefined();
  });

  it("reads counts and lengths that take several bytes in Hadoop's vint encoding", async () => {
    const many = Array.from({ length: 200 }, (_, index) =>
      token(`host${index}:8020`, "HDFS_DELEGATION_TOKEN", index),
    );
    for (const format of ["writable", "protobuf"] as const) {
      const read = parseTokenStorage(tokenStorageBytes(many, format), format);
      expect(read.map(partsOf)).toEqual(many);
    }
  });

  it("encodes a token as Token.encodeToUrlString does, at vint boundaries", () => {
    for (const size of [0, 1, 111, 112, 127, 128, 255, 256, 65_535, 65_536]) {
      const stored = token(`nn:${size}`, "HDFS_DELEGATION_TOKEN", size);
      expect(encodeTokenToUrlString(stored)).toBe(tokenUrlString(stored));
    }
    expect(tokenUrlString(token("nn:8020"))).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("refuses a negative length, as Hadoop's readVInt returns for a sign-flagged first byte", async () => {
    for (const negative of [-1, -112, -113, -129, -65_536, -2_147_483_648]) {
      const file = await writeBytes(writableFile(encodeHadoopVLong(negative)));
      const error = failureOf(() => readTokenStorageFile(file));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.detail).toBe(
        `${file} is not a Hadoop token storage file: the length of a token identifier is negative (${negative})`,
      );
    }
  });

  it("refuses a length beyond an int, and one beyond the end of the file", async () => {
    const huge = await writeBytes(writableFile(encodeHadoopVLong(2n ** 40n)));
    expect(failureOf(() => readTokenStorageFile(huge)).detail).toBe(
      `${huge} is not a Hadoop token storage file: the length of a token identifier does not fit in an int`,
    );
    const long = await writeBytes(writableFile(encodeHadoopVLong(2_147_483_647), Buffer.alloc(10)));
    expect(failureOf(() => readTokenStorageFile(long)).detail).toBe(
      `${long} is not a Hadoop token storage file: a token identifier runs past the end of the file`,
    );
  });

  it("refuses a corrupt file in one line that names it and shows none of its bytes", async () => {
    const whole = tokenStorageBytes([token("ha-hdfs:analytics")], "writable");
    const secret = tokenUrlString(token("ha-hdfs:analytics"));
    const cases: [Buffer, string][] = [
      [Buffer.from("NOPE\0"), "no HDTS header"],
      [Buffer.from("HD"), "the header runs past the end of the file"],
      [Buffer.concat([Buffer.from("HDTS"), Buffer.from([7])]), "unknown version 7"],
      [whole.subarray(0, whole.length - 3), "a token service runs past the end of the file"],
      [
        tokenStorageBytes([token("ns:1")], "protobuf").subarray(0, 12),
        "the credentials message runs past the end of the file",
      ],
    ];
    for (const [bytes, reason] of cases) {
      const file = await writeBytes(bytes);
      const error = failureOf(() => readTokenStorageFile(file));
      expect(error).toMatchObject({ code: "INVALID_ARGUMENT" });
      expect(error.message).toBe(`${file} is not a Hadoop token storage file: ${reason}`);
      expect(error.message).not.toContain(secret);
    }
  });
});

describe("choosing the token of a namenode", () => {
  const configuration = new Map(
    Object.entries({
      "dfs.nameservices": "analytics",
      "dfs.ha.namenodes.analytics": "nn1,nn2",
      "dfs.namenode.rpc-address.analytics.nn1": "master1.example:8020",
    }),
  );
  const tokens: HadoopToken[] = [
    token("ha-hdfs:analytics", "kms-dt"),
    token("ha-hdfs:analytics", "HDFS_DELEGATION_TOKEN", 9),
    token("10.0.0.7:8020", "HDFS_DELEGATION_TOKEN", 10),
    token("master1.example:8020", "HDFS_DELEGATION_TOKEN", 11),
    token("master1.example:9870", "WEBHDFS delegation", 12),
    token("ha-webhdfs:analytics", "WEBHDFS delegation", 13),
  ];

  it("names services as Hadoop does: ha-hdfs:<ns> for a nameservice, else host:port", () => {
    expect(tokenServicesOf("hdfs", "analytics", "", configuration)).toEqual(["ha-hdfs:analytics"]);
    expect(tokenServicesOf("webhdfs", "analytics", "", configuration)).toEqual(["ha-webhdfs:analytics"]);
    expect(tokenServicesOf("hdfs", "Master1.example", "8020", configuration)).toEqual([
      "master1.example:8020",
    ]);
    expect(tokenServicesOf("hdfs", "master1.example", "", new Map())).toEqual(["master1.example:8020"]);
    expect(tokenServicesOf("webhdfs", "master1.example", "", new Map())).toEqual(["master1.example:9870"]);
  });

  it("picks the HDFS token of the nameservice among tokens of other kinds and services", () => {
    const chosen = selectDelegationToken(tokens, tokenServicesOf("hdfs", "analytics", "", configuration));
    expect(chosen?.kind).toBe("HDFS_DELEGATION_TOKEN");
    expect(chosen?.identifier.length).toBe(9);
    expect(selectDelegationToken(tokens, ["ha-webhdfs:analytics"])?.identifier.length).toBe(13);
  });

  it("picks the host:port token, by IP when Hadoop named the service by IP", () => {
    expect(selectDelegationToken(tokens, ["master1.example:8020"])?.identifier.length).toBe(11);
    expect(selectDelegationToken(tokens, ["master9.example:8020", "10.0.0.7:8020"])?.identifier.length).toBe(
      10,
    );
    expect(selectDelegationToken(tokens, ["master1.example:9870"])?.kind).toBe("WEBHDFS delegation");
    expect(selectDelegationToken(tokens, ["elsewhere:8020"])).toBeUndefined();
  });
});

describe("HADOOP_TOKEN_FILE_LOCATION against a cluster that demands tokens", () => {
  let server: WebHdfsServer;
  beforeAll(async () => {
    server = await startWebHdfsServer({
      delegationTokens: {},
      directories: [{ path: "/user/carol", owner: "carol", permission: 0o755 }],
    });
  });
  afterAll(() => server.stop());

  const text = (value: string) => Readable.from([Buffer.from(value)]);
  const useTokenFile = (file: string, more: Record<string, string | undefined> = {}) =>
    onTestFinished(
      setEnvironment({ HADOOP_TOKEN_FILE_LOCATION: file, HADOOP_USER_NAME: "mallory", ...more }),
    );

  it("uploads through webhdfs:// with only the token file: the token's user owns the file", async () => {
    const issued = server.issueDelegationToken("carol", server.namenodeAddress, "WEBHDFS delegation");
    const file = tokenFile();
    await writeTokenStorageFile(file, [token("ha-hdfs:other"), issued], "protobuf");
    useTokenFile(file, { HADOOP_CONF_DIR: undefined });
    server.clearRequests();

    const target = `${uniqueDirectory("token-file")}/env.pex`;
    const { fs, path } = await resolveFileSystem(`webhdfs://${server.namenodeAddress}${target}`);
    await fs.put(text("archive"), path);
    expect(server.namespace.getFileStatus("hdfs", target).owner).toBe("carol");
    expect(server.requests.length).toBeGreaterThan(0);
    for (const request of server.requests) {
      expect(request.params.delegation).toBe(issued.urlString);
      expect(request.params["user.name"]).toBeUndefined();
    }
  });

  it("uploads through an HA hdfs://nameservice with the ha-hdfs token of a Writable file", async () => {
    const issued = server.issueDelegationToken("carol", "ha-hdfs:analytics");
    const rpc = server.issueDelegationToken("mallory", "127.0.0.1:8020");
    const file = tokenFile();
    await writeTokenStorageFile(file, [rpc, issued], "writable");
    const confDir = await writeHadoopConfDir(
      { "fs.defaultFS": "hdfs://analytics" },
      {
        "dfs.nameservices": "analytics",
        "dfs.ha.namenodes.analytics": "nn1",
        "dfs.namenode.rpc-address.analytics.nn1": "127.0.0.1:8020",
        "dfs.namenode.http-address.analytics.nn1": server.namenodeAddress,
      },
    );
    useTokenFile(file, { HADOOP_CONF_DIR: confDir });

    const { fs, path } = await resolveFileSystem("hdfs:///user/carol/ha/env.pex");
    await fs.put(text("archive"), path);
    expect(server.namespace.getFileStatus("hdfs", "/user/carol/ha/env.pex").owner).toBe("carol");
  });

  it("takes the token of a namenode's RPC address for hdfs://host:port", async () => {
    const issued = server.issueDelegationToken("carol", "127.0.0.1:8020");
    const file = tokenFile();
    await writeTokenStorageFile(file, [issued], "protobuf");
    const confDir = await writeHadoopConfDir(
      {},
      {
        "dfs.namenode.rpc-address": "127.0.0.1:8020",
        "dfs.namenode.http-address": server.namenodeAddress,
      },
    );
    useTokenFile(file, { HADOOP_CONF_DIR: confDir });
    const { fs, path } = await resolveFileSystem("hdfs://127.0.0.1:8020/user/carol/rpc.pex");
    await fs.put(text("archive"), path);
    expect(server.namespace.getFileStatus("hdfs", "/user/carol/rpc.pex").owner).toBe("carol");
  });

  it("uses the file for hdfsFileSystem's URLs too, and an explicit delegationToken over it", async () => {
    const carol = server.issueDelegationToken("carol", server.namenodeAddress, "WEBHDFS delegation");
    const dave = server.issueDelegationToken("dave", "elsewhere:1");
    const file = tokenFile();
    await writeTokenStorageFile(file, [carol], "writable");
    useTokenFile(file);
    const fromFile = hdfsFileSystem({ namenodes: [server.namenodeUrl] });
    expect((await fromFile.stat("/user/carol")).type).toBe("directory");
    server.clearRequests();
    const explicit = hdfsFileSystem({ namenodes: [server.namenodeUrl], delegationToken: dave.urlString });
    await caught(explicit.mkdir("/user/carol/by-dave"));
    expect(server.requests[0]?.params.delegation).toBe(dave.urlString);
  });

  it("says which token is missing when the file has none for the namenode (HTTP 401)", async () => {
    const other = server.issueDelegationToken("carol", "ha-hdfs:elsewhere");
    const file = tokenFile();
    await writeTokenStorageFile(file, [other], "protobuf");
    useTokenFile(file, { HADOOP_CONF_DIR: undefined });
    const { fs, path } = await resolveFileSystem(`webhdfs://${server.namenodeAddress}/user/carol`);
    const error = await caught(fs.stat(path));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.detail).toContain(
      `no delegation token for ${server.namenodeAddress} in $HADOOP_TOKEN_FILE_LOCATION (${file})`,
    );
    expect(error.message).not.toContain(other.urlString);
    // Without a token, user.name is sent as before.
    expect(server.requests.at(-1)?.params["user.name"]).toBe("mallory");
  });

  it("refuses a malformed token file in one line naming it", async () => {
    const file = await writeBytes(Buffer.from("HDTS\u0000\u0005"));
    useTokenFile(file, { HADOOP_CONF_DIR: undefined });
    const error = await caught(resolveFileSystem(`webhdfs://${server.namenodeAddress}/tmp/x`));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain(file);
  });
});

describe("tokens from the file in error messages", () => {
  let echo: Server;
  let address: string;
  beforeAll(async () => {
    // A server that repeats the request URL back, in a RemoteException (403) or an HTML page (401).
    echo = createServer((req, res) => {
      const url = req.url ?? "";
      if (url.includes("op=GETFILESTATUS")) {
        res.writeHead(403, { "Content-Type": "application/json" });
        res.end(
          JSON.stringify({
            RemoteException: { exception: "AccessControlException", message: `denied ${url}` },
          }),
        );
      } else {
        res.writeHead(401, { "Content-Type": "text/html" });
        res.end(`<html><body>401 for ${url}</body></html>`);
      }
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    address = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => echo.close(resolve)));

  it("never shows the chosen token or any other token of the file", async () => {
    const chosen = token(address, "WEBHDFS delegation", 40);
    const other = token("ha-hdfs:analytics", "HDFS_DELEGATION_TOKEN", 41);
    const file = tokenFile();
    await writeTokenStorageFile(file, [other, chosen], "protobuf");
    onTestFinished(setEnvironment({ HADOOP_TOKEN_FILE_LOCATION: file, HADOOP_CONF_DIR: undefined }));
    const { fs, path } = await resolveFileSystem(`webhdfs://${address}/tmp/x`);
    const [denied, unauthenticated] = [await caught(fs.stat(path)), await caught(fs.mkdir(path))];
    expect(denied.message).toContain("delegation=<delegation token>");
    for (const error of [denied, unauthenticated]) {
      const everything = `${error.message} ${String(error.cause)} ${JSON.stringify(error.cause)}`;
      // The token was in the text, replaced (the HTML page loses the marker with its tags).
      expect(everything).toContain("delegation=");
      for (const secret of [tokenUrlString(chosen), tokenUrlString(other)])
        expect(everything).not.toContain(secret);
    }
  });
});
