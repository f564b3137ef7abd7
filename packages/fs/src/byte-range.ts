import { StorageError } from "./errors.js";
import type { OpenOptions } from "./file-system.js";

/** A checked range of `open`: `length` is undefined for "to the end" while the file's size is unknown. */
export interface ByteRange {
  offset: number;
  length: number | undefined;
}

/** A range checked against the file's size: `length` is what is left to read, 0 for nothing. */
export interface SizedByteRange {
  offset: number;
  length: number;
}

const isByteCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
/** A bad value as the message shows it: a string (from untyped code) in quotes, so that "" is visible. */
const shown = (value: unknown) => (typeof value === "string" ? `"${value}"` : String(value));

/**
 * Checks the range options of `open`, the one rule every adapter follows:
 *
 * | range                             | reads                  |
 * | --------------------------------- | ---------------------- |
 * | offset, length: integers ≥ 0      | defaults 0, to the end |
 * | anything else (-1, 1.5, NaN, "3") | INVALID_ARGUMENT       |
 * | length 0                          | nothing                |
 * | offset === size                   | nothing                |
 * | offset > size                     | INVALID_ARGUMENT       |
 * | offset + length > size            | up to the end          |
 *
 * An empty read still needs the file to exist. Without `size` only the first two rows are checked; an adapter
 * that learns the size later (from the store's refusal of the range, say) calls again with it. With `size` the
 * returned length is clipped to the end. Throws a StorageError about `uri`.
 */
export function checkByteRange(options: OpenOptions, uri: string): ByteRange;
export function checkByteRange(options: OpenOptions, uri: string, size: number): SizedByteRange;
export function checkByteRange(options: OpenOptions, uri: string, size?: number): ByteRange {
  const { offset = 0, length } = options;
  for (const [name, value] of [
    ["offset", offset],
    ["length", length],
  ] as const) {
    if (value !== undefined && !isByteCount(value)) {
      throw new StorageError("INVALID_ARGUMENT", `${name} must be an integer ≥ 0, not ${shown(value)}`, {
        uri,
      });
    }
  }
  if (size === undefined) return { offset, length };
  if (offset > size) {
    throw new StorageError(
      "INVALID_ARGUMENT",
      `offset ${offset} is past the end of the file (${size} bytes)`,
      {
        uri,
      },
    );
  }
  return { offset, length: Math.min(length ?? size, size - offset) };
}
