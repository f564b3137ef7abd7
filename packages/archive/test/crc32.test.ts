import { randomBytes } from "node:crypto";
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32, slicingBy16 } from "../src/crc32.js";

describe("crc32", () => {
  it("gives the check value of CRC-32/ISO-HDLC for '123456789'", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    expect(slicingBy16(Buffer.from("123456789"))).toBe(0xcbf43926);
  });

  it("continues from a previous CRC exactly as over the joined bytes, in both implementations", () => {
    const data = randomBytes(100_003);
    for (const split of [0, 1, 15, 16, 17, 65_536]) {
      const whole = crc32(data);
      expect(crc32(data.subarray(split), crc32(data.subarray(0, split)))).toBe(whole);
      expect(slicingBy16(data.subarray(split), slicingBy16(data.subarray(0, split)))).toBe(whole);
    }
  });

  it.runIf(typeof (zlib as { crc32?: unknown }).crc32 === "function")(
    "agrees with zlib's on unaligned views of random data",
    () => {
      const native = (zlib as unknown as { crc32: (data: Uint8Array) => number }).crc32;
      const data = randomBytes(1 << 20);
      for (const offset of [0, 1, 3, 7]) {
        const view = data.subarray(offset, data.length - offset);
        expect(slicingBy16(view)).toBe(native(view));
      }
    },
  );
});
