/** The messages between the writer and its compression workers (structured-clone shapes, no classes). */

export interface CompressionTask {
  id: number;
  /** 0 stores, 1–9 deflates. */
  level: number;
  files: { path: string; size: number }[];
}

export interface CompressedFile {
  crc: number;
  /** 0 = stored, 8 = deflated (APPNOTE 4.4.5). */
  method: 0 | 8;
  compressedSize: number;
}

export type CompressionResult =
  | { id: number; data: ArrayBuffer; files: CompressedFile[] }
  | { id: number; error: { message: string; path: string } };
