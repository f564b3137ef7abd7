import { createHash } from "node:crypto";
import { crc32c } from "./crc32c.js";

/** Bytes covered by each CRC we compute: HDFS's default dfs.bytes-per-checksum. */
export const BYTES_PER_CRC = 512;

/** The `FileChecksum` object of a WebHDFS GETFILECHECKSUM answer. */
export interface WebHdfsFileChecksum {
  /** `MD5-of-<crcPerBlock>MD5-of-<bytesPerCRC><CRC32C|CRC32>`, or `COMPOSITE-CRC32C` and the like. */
  algorithm: string;
  /** Hex; for MD5-of-MD5: int32 bytesPerCRC, int64 crcPerBlock, the 16-byte MD5. */
  bytes: string;
  length: number;
}

/** HDFS's MD5MD5CRC32 checksum, as computed from the bytes sent. */
export interface ExpectedChecksum {
  algorithm: string;
  /** The 28 bytes of the checksum, hex. */
  bytes: string;
  /** The MD5 part, hex: what `hadoop fs -checksum` users compare. */
  md5: string;
}

const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest();

/**
 * The MD5 of Hadoop's DataOutputBuffer holding `content`: FileChecksumHelper digests the buffer's whole backing
 * array (MD5Hash.digest(getData())), which starts at 32 bytes and doubles, so its zero-filled tail counts.
 */
function md5OfDataOutputBuffer(content: Uint8Array): Buffer {
  let capacity = 32;
  while (capacity < content.length) capacity *= 2;
  const array = Buffer.alloc(capacity);
  array.set(content);
  return md5(array);
}

function checksumOf(algorithm: string, bytesPerCrc: number, crcPerBlock: number, fileMd5: Buffer) {
  const head = Buffer.alloc(12);
  head.writeInt32BE(bytesPerCrc, 0);
  head.writeBigInt64BE(BigInt(crcPerBlock), 4);
  return { algorithm, bytes: Buffer.concat([head, fileMd5]).toString("hex"), md5: fileMd5.toString("hex") };
}

/**
 * What an upload sent, summed up on the way: the CRC-32C of every 512-byte chunk (as a datanode stores it) and
 * the SHA-256 of the whole. The CRCs stay in memory until the stored file is checked: 4 bytes per 512 sent, so
 * 40 MB for a 5 GB archive, which is acceptable next to keeping no copy of the bytes.
 */
export class SentBytes {
  length = 0;
  private crcs = new Uint8Array(4096);
  private crcBytes = 0;
  private crc = 0;
  private inChunk = 0;
  private readonly sha256 = createHash("sha256");

  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.length += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, BYTES_PER_CRC - this.inChunk);
      this.crc = crc32c(chunk, this.crc, at, at + take);
      this.inChunk += take;
      at += take;
      if (this.inChunk === BYTES_PER_CRC) this.endChunk();
    }
  }

  /** Ends the last, partial chunk; call once every byte is sent. */
  finish(): { sha256: string } {
    if (this.inChunk > 0) this.endChunk();
    return { sha256: this.sha256.digest("hex") };
  }

  /** HDFS's MD5-of-MD5-of-512CRC32C for these bytes stored in blocks of `blockSize` (a multiple of 512). */
  md5Md5Crc32c(blockSize: number): ExpectedChecksum {
    if (this.length === 0) {
      // A file without blocks: FileChecksumHelper's fixed answer, typed CRC32 whatever the cluster's type.
      return checksumOf("MD5-of-0MD5-of-0CRC32", 0, 0, md5OfDataOutputBuffer(new Uint8Array(0)));
    }
    const crcsPerBlock = blockSize / BYTES_PER_CRC;
    const blockMd5s: Buffer[] = [];
    for (let start = 0; start < this.crcBytes; start += crcsPerBlock * 4)
      blockMd5s.push(md5(this.crcs.subarray(start, Math.min(start + crcsPerBlock * 4, this.crcBytes))));
    // crcPerBlock is the first block's CRC count, and only when there is more than one block.
    const crcPerBlock = blockMd5s.length > 1 ? crcsPerBlock : 0;
    return checksumOf(
      `MD5-of-${crcPerBlock}MD5-of-${BYTES_PER_CRC}CRC32C`,
      BYTES_PER_CRC,
      crcPerBlock,
      md5OfDataOutputBuffer(Buffer.concat(blockMd5s)),
    );
  }

  private endChunk(): void {
    if (this.crcBytes + 4 > this.crcs.length) {
      const grown = new Uint8Array(this.crcs.length * 2);
      grown.set(this.crcs);
      this.crcs = grown;
    }
    const crc = this.crc;
    this.crcs[this.crcBytes] = crc >>> 24;
    this.crcs[this.crcBytes + 1] = (crc >>> 16) & 0xff;
    this.crcs[this.crcBytes + 2] = (crc >>> 8) & 0xff;
    this.crcs[this.crcBytes + 3] = crc & 0xff;
    this.crcBytes += 4;
    this.crc = 0;
    this.inChunk = 0;
  }
}

/**
 * Whether a stored checksum can be recomputed from what we hashed: an MD5-of-MD5 over CRC32C chunks of 512 bytes
 * in blocks that are a whole number of chunks (or the fixed checksum of an empty file). COMPOSITE-CRC, CRC32
 * clusters and other chunk sizes cannot: the caller reads the file back instead.
 */
export function comparableChecksum(
  stored: WebHdfsFileChecksum,
  sent: SentBytes,
  blockSize: number,
): ExpectedChecksum | undefined {
  if (sent.length === 0) {
    const expected = sent.md5Md5Crc32c(blockSize);
    return stored.algorithm === expected.algorithm ? expected : undefined;
  }
  const match = /^MD5-of-(\d+)MD5-of-(\d+)CRC32C$/.exec(stored.algorithm);
  if (!match || Number(match[2]) !== BYTES_PER_CRC) return undefined;
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0 || blockSize % BYTES_PER_CRC !== 0) return undefined;
  return sent.md5Md5Crc32c(blockSize);
}
