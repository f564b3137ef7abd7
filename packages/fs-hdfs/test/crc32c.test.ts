import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { crc32c } from "../src/crc32c.js";

describe("crc32c", () => {
  it("gives the standard check value for 123456789", () => {
    expect(crc32c(Buffer.from("123456789")).toString(16)).toBe("e3069283");
  });

  it("gives the same CRC whether the bytes come whole or in pieces of any length", () => {
    const bytes = randomBytes(10_007);
    const whole = crc32c(bytes);
    for (const cut of [0, 1, 7, 8, 9, 4096, 10_006]) {
      expect(crc32c(bytes, crc32c(bytes, 0, 0, cut), cut)).toBe(whole);
    }
  });
});
