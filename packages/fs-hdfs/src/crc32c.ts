/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum HDFS datanodes keep by default. */

const POLYNOMIAL = 0x82f63b78;

/** Slicing-by-8 tables: `TABLES[k][b]` is the CRC of byte `b` followed by `k` zero bytes. */
const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const [first] = tables as [Uint32Array];
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    first[byte] = crc >>> 0;
  }
  for (let byte = 0; byte < 256; byte++) {
    let crc = first[byte] as number;
    for (let k = 1; k < 8; k++) {
      crc = (first[crc & 0xff] as number) ^ (crc >>> 8);
      (tables[k] as Uint32Array)[byte] = crc >>> 0;
    }
  }
  return tables;
})();

/** The CRC-32C of `bytes[start, end)` continued from `crc` (0 to start a new one). */
export function crc32c(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let state = ~crc >>> 0;
  let i = start;
  // Eight bytes per step: one table look-up per byte, no dependency between them.
  for (; i + 8 <= end; i += 8) {
    const low =
      (state ^
        ((bytes[i] as number) |
          ((bytes[i + 1] as number) << 8) |
          ((bytes[i + 2] as number) << 16) |
          ((bytes[i + 3] as number) << 24))) >>>
      0;
    state =
      (t7[low & 0xff] as number) ^
      (t6[(low >>> 8) & 0xff] as number) ^
      (t5[(low >>> 16) & 0xff] as number) ^
      (t4[low >>> 24] as number) ^
      (t3[bytes[i + 4] as number] as number) ^
      (t2[bytes[i + 5] as number] as number) ^
      (t1[bytes[i + 6] as number] as number) ^
      (t0[bytes[i + 7] as number] as number);
  }
  for (; i < end; i++) state = (t0[(state ^ (bytes[i] as number)) & 0xff] as number) ^ (state >>> 8);
  return ~state >>> 0;
}
