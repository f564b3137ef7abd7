/** The messages between the zip writer and its workers (structured-clone shapes, no classes). */
import type { DosStamp } from "./zip-format.js";

/** An entry of a batch: a file the worker reads, or bytes the writer already has (directory, symlink, buffer). */
export type BatchItem =
  | { kind: "file"; name: string; path: string; size: number }
  | { kind: "bytes"; name: string; content: Uint8Array; compressible: boolean };

export interface BatchTask {
  id: number;
  /** 0 stores, 1–9 deflates. */
  level: number;
  stamp: DosStamp;
  forceZip64: boolean;
  /** Also return the sha256 (hex) of each entry's content, computed while it is in memory anyway. */
  sha256?: boolean;
  items: BatchItem[];
  /**
   * One large file laid out exactly as the writer streams it (always deflated, CRC and sizes in a data descriptor,
   * APPNOTE 4.3.9), so that it can be compressed beside the batches instead of on the writer's thread.
   */
  dataDescriptor?: boolean;
  /**
   * When set, the worker writes the finished batch itself at `position` of this open file and sends no data back:
   * with stored entries every offset is known before anything is read, so the data never crosses threads.
   */
  output?: { fd: number; position: number };
}

export interface EncodedEntry {
  crc: number;
  /** 0 = stored, 8 = deflated (APPNOTE 4.4.5). */
  method: 0 | 8;
  compressedSize: number;
  /** Hex sha256 of the uncompressed content, when the task asked for it. */
  sha256?: string;
}

/** `data` holds every local header and entry body in order, unless the worker wrote them itself (`output`). */
export type BatchResult =
  | { id: number; entries: EncodedEntry[]; length: number; data?: ArrayBuffer }
  | { id: number; error: { message: string; path: string } };
