/**
 * ZIP record layouts, from PKWARE's APPNOTE.TXT 6.3.10. All integers are little-endian. Only what a
 * deterministic unix writer needs: no encryption, one disk, no extra fields except ZIP64's (which carries no
 * time or owner), so equal inputs give equal bytes.
 */

export const LOCAL_FILE_HEADER = 0x04034b50; // 4.3.7
export const DATA_DESCRIPTOR = 0x08074b50; // 4.3.9.3
export const CENTRAL_FILE_HEADER = 0x02014b50; // 4.3.12
export const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50; // 4.3.14
export const ZIP64_END_LOCATOR = 0x07064b50; // 4.3.15
export const END_OF_CENTRAL_DIRECTORY = 0x06054b50; // 4.3.16
export const ZIP64_EXTRA_TAG = 0x0001; // 4.5.3

/** Bit 3: CRC and sizes follow the data in a data descriptor (4.4.4). */
export const FLAG_DATA_DESCRIPTOR = 1 << 3;
/** Bit 11: the name is UTF-8 (4.4.4, appendix D). */
export const FLAG_UTF8 = 1 << 11;

export const MAX_32 = 0xffffffff;
export const MAX_16 = 0xffff;

/** "Version made by" (4.4.2): upper byte 3 = UNIX, so readers interpret external attributes as st_mode. */
const VERSION_MADE_BY = (3 << 8) | 45;

/** Everything the central directory repeats about an entry. */
export interface ZipRecord {
  nameBytes: Buffer;
  flags: number;
  method: 0 | 8;
  crc: number;
  compressedSize: number;
  size: number;
  /** Position of the local header from the start of the output, prefix included (as `zip -A` writes). */
  offset: number;
  /** st_mode (file type + permissions). */
  unixMode: number;
  /** Whether the local header carries a ZIP64 extra field. */
  zip64Local: boolean;
}

export interface DosStamp {
  date: number;
  time: number;
}

/** "Version needed to extract" (4.4.3.2): 1.0 stored, 2.0 deflate or directory, 4.5 ZIP64. */
function versionNeeded(record: ZipRecord, zip64: boolean): number {
  if (zip64) return 45;
  return record.method === 8 || record.nameBytes[record.nameBytes.length - 1] === 0x2f ? 20 : 10;
}

/** 4.3.7; with a data descriptor, CRC and sizes are zero here (4.4.4 bit 3), and ZIP64 sizes are zero too. */
export function localFileHeader(record: ZipRecord, stamp: DosStamp): Buffer {
  const deferred = (record.flags & FLAG_DATA_DESCRIPTOR) !== 0;
  const extraLength = record.zip64Local ? 20 : 0;
  const header = Buffer.allocUnsafe(30 + record.nameBytes.length + extraLength);
  header.writeUInt32LE(LOCAL_FILE_HEADER, 0);
  header.writeUInt16LE(versionNeeded(record, record.zip64Local), 4);
  header.writeUInt16LE(record.flags, 6);
  header.writeUInt16LE(record.method, 8);
  header.writeUInt16LE(stamp.time, 10);
  header.writeUInt16LE(stamp.date, 12);
  header.writeUInt32LE(deferred ? 0 : record.crc, 14);
  // 4.5.3: a local ZIP64 extra MUST hold both sizes, and the 32-bit fields are then 0xFFFFFFFF.
  const size32 = record.zip64Local ? MAX_32 : deferred ? 0 : record.size;
  const compressed32 = record.zip64Local ? MAX_32 : deferred ? 0 : record.compressedSize;
  header.writeUInt32LE(compressed32, 18);
  header.writeUInt32LE(size32, 22);
  header.writeUInt16LE(record.nameBytes.length, 26);
  header.writeUInt16LE(extraLength, 28);
  record.nameBytes.copy(header, 30);
  if (record.zip64Local) {
    const at = 30 + record.nameBytes.length;
    header.writeUInt16LE(ZIP64_EXTRA_TAG, at);
    header.writeUInt16LE(16, at + 2);
    header.writeBigUInt64LE(BigInt(deferred ? 0 : record.size), at + 4);
    header.writeBigUInt64LE(BigInt(deferred ? 0 : record.compressedSize), at + 12);
  }
  return header;
}

/** 4.3.9: signature, CRC, then sizes as 8-byte values when the local header used ZIP64 (4.3.9.2). */
export function dataDescriptor(record: ZipRecord): Buffer {
  const descriptor = Buffer.allocUnsafe(record.zip64Local ? 24 : 16);
  descriptor.writeUInt32LE(DATA_DESCRIPTOR, 0);
  descriptor.writeUInt32LE(record.crc, 4);
  if (record.zip64Local) {
    descriptor.writeBigUInt64LE(BigInt(record.compressedSize), 8);
    descriptor.writeBigUInt64LE(BigInt(record.size), 16);
  } else {
    descriptor.writeUInt32LE(record.compressedSize, 8);
    descriptor.writeUInt32LE(record.size, 12);
  }
  return descriptor;
}

/**
 * 4.3.12. A value that does not fit moves to the ZIP64 extra (4.5.3), in the fixed order uncompressed size,
 * compressed size, local header offset, each present only when its 32-bit field reads 0xFFFFFFFF.
 */
export function centralFileHeader(record: ZipRecord, stamp: DosStamp, forceZip64: boolean): Buffer {
  const bigSize = forceZip64 || record.size >= MAX_32;
  const bigCompressed = forceZip64 || record.compressedSize >= MAX_32;
  const bigOffset = forceZip64 || record.offset >= MAX_32;
  const extraFields = [
    bigSize && record.size,
    bigCompressed && record.compressedSize,
    bigOffset && record.offset,
  ];
  const extraValues = extraFields.filter((value): value is number => value !== false);
  const extraLength = extraValues.length > 0 ? 4 + 8 * extraValues.length : 0;
  const header = Buffer.allocUnsafe(46 + record.nameBytes.length + extraLength);
  header.writeUInt32LE(CENTRAL_FILE_HEADER, 0);
  header.writeUInt16LE(VERSION_MADE_BY, 4);
  header.writeUInt16LE(versionNeeded(record, extraLength > 0 || record.zip64Local), 6);
  header.writeUInt16LE(record.flags, 8);
  header.writeUInt16LE(record.method, 10);
  header.writeUInt16LE(stamp.time, 12);
  header.writeUInt16LE(stamp.date, 14);
  header.writeUInt32LE(record.crc, 16);
  header.writeUInt32LE(bigCompressed ? MAX_32 : record.compressedSize, 20);
  header.writeUInt32LE(bigSize ? MAX_32 : record.size, 24);
  header.writeUInt16LE(record.nameBytes.length, 28);
  header.writeUInt16LE(extraLength, 30);
  header.writeUInt16LE(0, 32); // comment length
  header.writeUInt16LE(0, 34); // disk number start
  header.writeUInt16LE(0, 36); // internal attributes
  // 4.4.15: with "made by" UNIX the high 16 bits are st_mode; bit 4 is the MS-DOS directory flag.
  const isDirectory = (record.unixMode & 0o170000) === 0o040000;
  header.writeUInt32LE(((record.unixMode << 16) | (isDirectory ? 0x10 : 0)) >>> 0, 38);
  header.writeUInt32LE(bigOffset ? MAX_32 : record.offset, 42);
  record.nameBytes.copy(header, 46);
  if (extraLength > 0) {
    let at = 46 + record.nameBytes.length;
    header.writeUInt16LE(ZIP64_EXTRA_TAG, at);
    header.writeUInt16LE(extraLength - 4, at + 2);
    at += 4;
    for (const value of extraValues) {
      header.writeBigUInt64LE(BigInt(value), at);
      at += 8;
    }
  }
  return header;
}

export interface CentralDirectoryEnd {
  entries: number;
  size: number;
  offset: number;
  /** Where the ZIP64 end record goes (the current output position). */
  position: number;
  forceZip64: boolean;
}

/**
 * The end records. 4.4.1.4: when the entry count, directory size or offset does not fit its field, the field
 * reads 0xFFFF/0xFFFFFFFF and the real values live in a ZIP64 end record (4.3.14) found through its locator
 * (4.3.15). A count of exactly 0xFFFF already means "look for ZIP64", so it takes ZIP64 too.
 */
export function endOfCentralDirectory(end: CentralDirectoryEnd): { bytes: Buffer; zip64: boolean } {
  const bigCount = end.entries >= MAX_16;
  const bigSize = end.size >= MAX_32;
  const bigOffset = end.offset >= MAX_32;
  const zip64 = end.forceZip64 || bigCount || bigSize || bigOffset;
  const parts: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(ZIP64_END_OF_CENTRAL_DIRECTORY, 0);
    record.writeBigUInt64LE(44n, 4); // size of the remaining record
    record.writeUInt16LE(VERSION_MADE_BY, 12);
    record.writeUInt16LE(45, 14);
    // disk numbers at 16 and 20 stay 0
    record.writeBigUInt64LE(BigInt(end.entries), 24);
    record.writeBigUInt64LE(BigInt(end.entries), 32);
    record.writeBigUInt64LE(BigInt(end.size), 40);
    record.writeBigUInt64LE(BigInt(end.offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(ZIP64_END_LOCATOR, 0);
    locator.writeBigUInt64LE(BigInt(end.position), 8);
    locator.writeUInt32LE(1, 16); // total number of disks
    parts.push(record, locator);
  }
  const record = Buffer.alloc(22);
  record.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  const count = bigCount || end.forceZip64 ? MAX_16 : end.entries;
  record.writeUInt16LE(count, 8);
  record.writeUInt16LE(count, 10);
  record.writeUInt32LE(bigSize || end.forceZip64 ? MAX_32 : end.size, 12);
  record.writeUInt32LE(bigOffset || end.forceZip64 ? MAX_32 : end.offset, 16);
  parts.push(record);
  return { bytes: Buffer.concat(parts), zip64 };
}
