import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeTokenUrlString,
  encodeHadoopVLong,
  startWebHdfsServer,
  tokenStorageBytes,
  tokenUrlString,
  type WebHdfsServer,
} from "../src/index.js";

describe("Hadoop's vint encoding", () => {
  it("writes the bytes WritableUtils.writeVLong writes", () => {
    const hex = (value: number | bigint) => encodeHadoopVLong(value).toString("hex");
    expect(hex(0)).toBe("00");
    expect(hex(127)).toBe("7f");
    expect(hex(-112)).toBe("90");
    expect(hex(128)).toBe("8f80");
    expect(hex(256)).toBe("8e0100");
    expect(hex(-113)).toBe("8770");
    expect(hex(-257)).toBe("860100");
    expect(hex(2_147_483_647)).toBe("8c7fffffff");
    expect(hex(-(2n ** 63n))).toBe("807fffffffffffffff");
  });
});

describe("token storage files", () => {
  const token = { identifier: Buffer.from([1, 2]), password: Buffer.from([3]), kind: "K", service: "S" };

  it("writes the Writable form: HDTS, version 0, tokens, then secret keys", () => {
    expect(tokenStorageBytes([token], "writable").toString("hex")).toBe(
      // header, version, 1 token, alias "S", identifier, password, kind "K", service "S", 0 secret keys
      ["48445453", "00", "01", "0153", "020102", "0103", "014b", "0153", "00"].join(""),
    );
  });

  it("writes the protobuf form: HDTS, version 1, a length-delimited CredentialsProto", () => {
    const tokenProto = ["0a020102", "120103", "1a014b", "220153"].join("");
    const kv = ["0a0153", "12", (tokenProto.length / 2).toString(16).padStart(2, "0"), tokenProto].join("");
    const message = `0a${(kv.length / 2).toString(16).padStart(2, "0")}${kv}`;
    expect(tokenStorageBytes([token], "protobuf").toString("hex")).toBe(
      `${Buffer.from("HDTS").toString("hex")}01${(message.length / 2).toString(16).padStart(2, "0")}${message}`,
    );
  });
});

describe("delegation tokens of the WebHDFS test server", () => {
  let server: WebHdfsServer;
  beforeAll(async () => {
    server = await startWebHdfsServer({ delegationTokens: {} });
  });
  afterAll(() => server.stop());

  const status = async (delegation: string) =>
    (await fetch(`${server.namenodeUrl}/webhdfs/v1/tmp?op=GETFILESTATUS&delegation=${delegation}`)).status;

  it("issues wire-form tokens it accepts, and refuses altered ones", async () => {
    const issued = server.issueDelegationToken("carol", "ha-hdfs:analytics");
    expect(issued.kind).toBe("HDFS_DELEGATION_TOKEN");
    expect(decodeTokenUrlString(issued.urlString)).toEqual({
      identifier: issued.identifier,
      password: issued.password,
      kind: issued.kind,
      service: "ha-hdfs:analytics",
    });
    expect(await status(issued.urlString)).toBe(200);
    const forged = tokenUrlString({ ...issued, password: Buffer.alloc(issued.password.length) });
    expect(await status(forged)).toBe(403);
    expect(await status("not-a-token")).toBe(403);
  });

  it("shares its tokens with the other namenode of an HA pair", async () => {
    const standby = await startWebHdfsServer({ delegationTokens: {}, shareNamespaceWith: server });
    try {
      const issued = server.issueDelegationToken("carol", "ha-hdfs:analytics");
      const response = await fetch(
        `${standby.namenodeUrl}/webhdfs/v1/tmp?op=GETFILESTATUS&delegation=${issued.urlString}`,
      );
      expect(response.status).toBe(200);
    } finally {
      await standby.stop();
    }
  });
});
