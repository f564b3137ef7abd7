import { describe, expect, it } from "vitest";
import { redactUrlCredentials, sanitizeLine, sanitizeText } from "../src/index.js";

describe("text from files and servers on a terminal", () => {
  it("shows escape sequences and other control characters as \\xNN", () => {
    expect(sanitizeText("pkg\u001b[2J\u001b]0;pwned\u0007.py\u009b")).toBe(
      "pkg\\x1b[2J\\x1b]0;pwned\\x07.py\\x9b",
    );
  });

  it("keeps newlines and tabs in multi-line text, folds them in a line", () => {
    expect(sanitizeText("a\tb\nc")).toBe("a\tb\nc");
    expect(sanitizeLine("a\r\nb\nc\rd")).toBe("a\\nb\\nc\\x0dd");
  });

  it("leaves ordinary text alone, unicode included", () => {
    expect(sanitizeLine("numpy-1.26.dist-info/RECORD: ünïcödé ✓")).toBe(
      "numpy-1.26.dist-info/RECORD: ünïcödé ✓",
    );
  });

  it("redacts the password of every URL, keeping the user", () => {
    expect(redactUrlCredentials("endpoint http://admin:s3cr3t@host:9000/x and https://u:p@h")).toBe(
      "endpoint http://admin:***@host:9000/x and https://u:***@h",
    );
    expect(redactUrlCredentials("bad endpoint http//admin:pw@host")).toBe(
      "bad endpoint http//admin:***@host",
    );
    expect(redactUrlCredentials("s3://bucket/key hdfs://nn:8020/p http://user@host/")).toBe(
      "s3://bucket/key hdfs://nn:8020/p http://user@host/",
    );
  });
});
