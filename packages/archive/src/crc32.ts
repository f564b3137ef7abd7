import * as zlib from "node:zlib";

/**
 * CRC-32 (ISO-HDLC, the polynomial of ZIP, APPNOTE 4.4.7, and of gzip, RFC 1952). Node ≥ 20.15 has zlib's own
 * (SIMD, ~4 GB/s here); before that, sixteen bytes at a time ("slicing-by-16", words read through a DataView):
 * ~1.2 GB/s in V8, against ~0.9 GB/s for slicing-by-8 with byte loads and ~0.2 GB/s for the byte-at-a-time table.
 */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let tables: Int32Array | undefined;

function buildTables(): Int32Array {
  const table = new Int32Array(256 * 16);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n] as number;
    for (let slice = 1; slice < 16; slice++) {
      c = (table[c & 0xff] as number) ^ (c >>> 8);
      table[slice * 256 + n] = c;
    }
  }
  return table;
}

/** The CRC-32 of `data`, continuing from `previous` (the CRC of the bytes before it) when given. */
export function crc32(data: Uint8Array, previous = 0): number {
  return nativeCrc32 ? nativeCrc32(data, previous) : slicingBy16(data, previous);
}

/** Exported for the test that pins it to zlib's on the Node versions that have both. */
export function slicingBy16(data: Uint8Array, previous = 0): number {
  tables ??= buildTables();
  const t = tables;
  let c = ~previous;
  let i = 0;
  const end16 = data.length - 16;
  if (end16 >= 0) {
    const words = new DataView(data.buffer, data.byteOffset, data.byteLength);
    // Indexing is in bounds by construction; the `as number` casts only satisfy noUncheckedIndexedAccess.
    for (; i <= end16; i += 16) {
      c ^= words.getInt32(i, true);
      const b = words.getInt32(i + 4, true);
      const d = words.getInt32(i + 8, true);
      const e = words.getInt32(i + 12, true);
      c =
        (t[3840 + (c & 0xff)] as number) ^
        (t[3584 + ((c >>> 8) & 0xff)] as number) ^
        (t[3328 + ((c >>> 16) & 0xff)] as number) ^
        (t[3072 + (c >>> 24)] as number) ^
        (t[2816 + (b & 0xff)] as number) ^
        (t[2560 + ((b >>> 8) & 0xff)] as number) ^
        (t[2304 + ((b >>> 16) & 0xff)] as number) ^
        (t[2048 + (b >>> 24)] as number) ^
        (t[1792 + (d & 0xff)] as number) ^
        (t[1536 + ((d >>> 8) & 0xff)] as number) ^
        (t[1280 + ((d >>> 16) & 0xff)] as number) ^
        (t[1024 + (d >>> 24)] as number) ^
        (t[768 + (e & 0xff)] as number) ^
        (t[512 + ((e >>> 8) & 0xff)] as number) ^
        (t[256 + ((e >>> 16) & 0xff)] as number) ^
        (t[e >>> 24] as number);
    }
  }
  for (; i < data.length; i++) c = (t[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}
