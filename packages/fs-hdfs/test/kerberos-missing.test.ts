import { describe, expect, it, vi } from "vitest";
import { hdfsFileSystem } from "../src/index.js";
import { fromGssError } from "../src/spnego.js";
import { caught, closedPort } from "./support.js";

// As on a machine where the optional `kerberos` addon did not install or does not build.
vi.mock("kerberos", () => {
  throw new Error("Cannot find module 'kerberos'");
});

describe("Kerberos without the kerberos package", () => {
  it("says in one line what to install", async () => {
    const base = `http://127.0.0.1:${await closedPort()}`;
    const fs = hdfsFileSystem({ namenodes: [base], kerberos: true });
    const error = await caught(fs.stat("/user/tester"));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(
      /^Kerberos is on for webhdfs:\/\/127\.0\.0\.1:\d+\/user\/tester but the kerberos package cannot load \(.*\): install it \(npm install kerberos; it builds against libkrb5-dev\)$/,
    );
  });

  it("is not needed when Kerberos is off", async () => {
    const base = `http://127.0.0.1:${await closedPort()}`;
    const fs = hdfsFileSystem({ namenodes: [base], network: { maxAttempts: 1 } });
    const error = await caught(fs.stat("/x"));
    expect(error.message).toMatch(/cannot reach namenode/);
  });
});

describe("fromGssError", () => {
  // MIT's text for KRB5KRB_AP_ERR_SKEW, as GSSAPI wraps it (not reproducible against a KDC on this machine's clock).
  it("names clock skew and says to synchronise the clock", () => {
    const gss = new Error(
      "Unspecified GSS failure.  Minor code may provide more information: Clock skew too great",
    );
    const error = fromGssError(gss, "HTTP@nn1.example.com", "hdfs:///user/alice/env.pex");
    expect(error.message).toBe(
      "hdfs:///user/alice/env.pex: the clocks of this machine and the Kerberos KDC differ too much (clock skew): synchronise the clock (NTP)",
    );
    expect(error.hint).toMatch(/clock/);
  });

  it("keeps an unknown GSSAPI failure's minor message, on one line", () => {
    const gss = new Error("Unspecified GSS failure.  Minor code may provide more information: Something new");
    const error = fromGssError(gss, "HTTP@nn1.example.com", "hdfs:///x");
    expect(error.message).toBe(
      "hdfs:///x: Kerberos authentication for HTTP@nn1.example.com failed: Something new",
    );
  });
});
