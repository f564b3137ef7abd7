import { describe, expect, it, vi } from "vitest";
import { isStorageError, StorageError } from "../src/errors.js";

describe("isStorageError", () => {
  it("recognises a StorageError thrown by another copy of this package (a plugin bundling its own)", async () => {
    // A fresh module registry loads the module a second time: a second StorageError class, as in a bundled plugin.
    vi.resetModules();
    const copy = await import("../src/errors.js");
    const fromPlugin = new copy.StorageError("NOT_FOUND", "no such file or directory", {
      uri: "memory://x/a",
    });
    expect(fromPlugin).not.toBeInstanceOf(StorageError);
    expect(isStorageError(fromPlugin)).toBe(true);
    expect(isStorageError(fromPlugin, "NOT_FOUND")).toBe(true);
    expect(isStorageError(fromPlugin, "ALREADY_EXISTS")).toBe(false);
  });

  it("is false for other errors of the family and for plain errors", () => {
    expect(isStorageError(new Error("NOT_FOUND"))).toBe(false);
    expect(isStorageError(Object.assign(new Error("x"), { name: "StorageError", code: "NOT_FOUND" }))).toBe(
      false,
    );
  });
});
