import { describe, expect, it } from "vitest";
import { ClusterPackError, firstLine, isClusterPackError } from "../src/index.js";

class DiskError extends ClusterPackError<"FULL" | "GONE"> {
  override readonly name = "DiskError";
}

describe("ClusterPackError", () => {
  it("puts the location first and keeps the message to one line", () => {
    const error = new DiskError("FULL", "no space left\n  at write (disk.c:12)", {
      location: "/data/env.pex",
      hint: "free some space",
    });
    expect(error.message).toBe("/data/env.pex: no space left");
    expect(error.detail).toBe("no space left");
    expect(error.location).toBe("/data/env.pex");
    expect(error.hint).toBe("free some space");
    expect(error.name).toBe("DiskError");
  });

  it("is recognised in every family, by code too, and not for foreign errors", () => {
    const error = new DiskError("GONE", "vanished");
    expect(isClusterPackError(error)).toBe(true);
    expect(isClusterPackError(error, "GONE")).toBe(true);
    expect(isClusterPackError(error, "FULL")).toBe(false);
    expect(isClusterPackError(new Error("vanished"))).toBe(false);
    expect(isClusterPackError({ code: "GONE", message: "vanished" })).toBe(false);
    expect(isClusterPackError(undefined)).toBe(false);
  });

  it("is recognised across copies of this package (the brand is a registered symbol)", () => {
    const foreign = Object.assign(new Error("x"), { code: "GONE" });
    Object.defineProperty(foreign, Symbol.for("cluster-pack.error"), { value: true });
    expect(isClusterPackError(foreign, "GONE")).toBe(true);
  });

  it("keeps the cause", () => {
    const cause = new Error("EIO");
    expect(new DiskError("FULL", "write failed", { cause }).cause).toBe(cause);
  });
});

describe("firstLine", () => {
  it("takes the first non-blank line of a text or an error, trimmed and shortened", () => {
    expect(firstLine("\n  Traceback (most recent call last):\n  File")).toBe(
      "Traceback (most recent call last):",
    );
    expect(firstLine(new Error("one\ntwo"))).toBe("one");
    expect(firstLine("x".repeat(20), 5)).toBe("xxxxx…");
    expect(firstLine("")).toBe("");
  });
});
