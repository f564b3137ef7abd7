import { existsSync } from "node:fs";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execute, type RunningKdc, startKdc } from "../src/index.js";

// GSSAPI reads KRB5_CONFIG, KRB5CCNAME and KRB5_KTNAME from the environment, so the test KDC's are set in
// process.env before the `kerberos` addon is loaded (this file runs in a process of its own).
let kdc: RunningKdc;
let kerberos: typeof import("kerberos");

beforeAll(async () => {
  kdc = await startKdc();
  Object.assign(process.env, kdc.env());
  kerberos = await import("kerberos");
}, 60_000);

afterAll(async () => {
  await kdc?.stop();
});

const klist = () => execute("klist", [], { env: { ...process.env, ...kdc.env() } });

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** A SPNEGO exchange as an HTTP client and server do it: the client's token, the server's reply, back to the client. */
async function negotiate(service: string) {
  const client = await kerberos.initializeClient(service, { mechOID: kerberos.GSS_MECH_OID_SPNEGO });
  const token = await client.step("");
  const server = await kerberos.initializeServer(service);
  await server.step(token);
  await client.step(server.response);
  return { client, server, token };
}

describe("startKdc", () => {
  it("serves a realm of its own on 127.0.0.1, with a user and the HTTP principals of loopback", () => {
    expect(kdc.realm).toBe("CLUSTER-PACK.TEST");
    expect(kdc.userPrincipal).toBe("tester@CLUSTER-PACK.TEST");
    expect(kdc.httpPrincipals).toEqual([
      "HTTP/localhost@CLUSTER-PACK.TEST",
      "HTTP/127.0.0.1@CLUSTER-PACK.TEST",
    ]);
    expect(kdc.env()).toMatchObject({
      KRB5_CONFIG: kdc.krb5Config,
      KRB5CCNAME: expect.stringMatching(/^FILE:/),
      KRB5_KTNAME: `FILE:${kdc.httpKeytab}`,
    });
    expect(kdc.port).toBeGreaterThan(0);
  });

  it("kinit with the user's keytab gets a ticket-granting ticket that klist shows", async () => {
    await kdc.kinit();
    const listed = await klist();
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("Default principal: tester@CLUSTER-PACK.TEST");
    expect(listed.stdout).toContain("krbtgt/CLUSTER-PACK.TEST@CLUSTER-PACK.TEST");
  });

  it("the kerberos package's client makes a SPNEGO token for HTTP@localhost that its server accepts", async () => {
    await kdc.kinit();
    const { client, server, token } = await negotiate("HTTP@localhost");
    expect(token).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(server.contextComplete).toBe(true);
    expect(server.username).toBe("tester@CLUSTER-PACK.TEST");
    // Mutual authentication: the client checked the server's reply.
    expect(client.contextComplete).toBe(true);
    // The service ticket went into the cache next to the TGT.
    expect((await klist()).stdout).toContain("HTTP/localhost@CLUSTER-PACK.TEST");
  });

  it("HTTP@127.0.0.1 works too (a WebHDFS URL naming the address)", async () => {
    await kdc.kinit();
    const { server } = await negotiate("HTTP@127.0.0.1");
    expect(server.username).toBe("tester@CLUSTER-PACK.TEST");
    expect((await klist()).stdout).toContain("HTTP/127.0.0.1@CLUSTER-PACK.TEST");
  });

  it("after kdestroy the client has no credentials", async () => {
    await kdc.kinit();
    await kdc.kdestroy();
    expect((await klist()).code).not.toBe(0);
    // Through SPNEGO (what an HTTP client uses) GSSAPI only says no mechanism had credentials; the Kerberos
    // mechanism itself names the empty cache.
    const spnego = await kerberos.initializeClient("HTTP@localhost", {
      mechOID: kerberos.GSS_MECH_OID_SPNEGO,
    });
    await expect(spnego.step("")).rejects.toThrow(/No credentials were supplied/);
    const krb5 = await kerberos.initializeClient("HTTP@localhost", { mechOID: kerberos.GSS_MECH_OID_KRB5 });
    await expect(krb5.step("")).rejects.toThrow(/No Kerberos credentials available/);
    await kdc.kdestroy(); // nothing left to destroy: not an error
  });

  it("addPrincipal makes another user, whose keytab kinit uses", async () => {
    const keytab = await kdc.addPrincipal("bob");
    expect(existsSync(keytab)).toBe(true);
    await kdc.kinit("bob");
    expect((await klist()).stdout).toContain("Default principal: bob@CLUSTER-PACK.TEST");
    const { server } = await negotiate("HTTP@localhost");
    expect(server.username).toBe("bob@CLUSTER-PACK.TEST");
    await expect(kdc.addPrincipal("bob")).rejects.toThrow(/already exists/);
  });

  it("stop ends krb5kdc and deletes its directory; a second stop does nothing", async () => {
    const other = await startKdc({ realm: "OTHER.TEST", user: "carol" });
    expect(other.port).not.toBe(kdc.port);
    expect(await listening(other.port)).toBe(true);
    await other.stop();
    expect(await listening(other.port)).toBe(false);
    expect(existsSync(other.directory)).toBe(false);
    await other.stop();
  }, 60_000);
});
