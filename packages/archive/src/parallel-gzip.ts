import { promisify } from "node:util";
import { gzip } from "node:zlib";

const gzipAsync = promisify(gzip);

/** Input bytes per gzip member: large enough that restarting the dictionary costs well under 0.1% in size. */
export const GZIP_MEMBER_BYTES = 4 << 20;

/**
 * gzip of a byte stream as a series of independent members of fixed input size, compressed concurrently on
 * libuv's thread pool and emitted in order. RFC 1952 §2.2 defines a gzip file as a series of members, and gunzip,
 * Python's gzip/tarfile and Node's zlib all read them as one stream. Member boundaries depend only on the input,
 * and Node writes a fixed header (mtime 0, no name), so the output is deterministic.
 */
export async function* parallelGzip(
  source: AsyncIterable<Uint8Array>,
  level: number,
  concurrency: number,
): AsyncGenerator<Buffer> {
  const inFlight: Promise<Buffer>[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = (upTo: number) => {
    const joined = Buffer.concat(pending, pendingBytes);
    inFlight.push(gzipAsync(joined.subarray(0, upTo), { level }));
    pending = upTo < joined.length ? [joined.subarray(upTo)] : [];
    pendingBytes = joined.length - upTo;
  };
  for await (const chunk of source) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= GZIP_MEMBER_BYTES) {
      flush(GZIP_MEMBER_BYTES);
      // Bounded look-ahead: at most `concurrency` members compress while the oldest is awaited.
      if (inFlight.length > concurrency) yield await (inFlight.shift() as Promise<Buffer>);
    }
  }
  if (pendingBytes > 0 || inFlight.length === 0) flush(pendingBytes);
  for (const member of inFlight) yield await member;
}
