import { PassThrough, type Readable, type Writable } from "node:stream";

/** Whether `error` is `cause`, or was caused by it, through its chain of causes. */
function isCausedBy(error: unknown, cause: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause)
    if (current === cause) return true;
  return error === cause;
}

/**
 * Runs the writer into a stream while `upload` reads that stream, and settles when both have, with what the
 * writer reports. Either failure stops the other side. The root cause is reported: the upload's error, unless
 * the upload failed because the writer did (its source failed), then the writer's (a packer's error).
 */
export async function streamed<T>(
  write: (destination: Writable) => Promise<T>,
  upload: (source: Readable, written: Promise<T>) => Promise<void>,
): Promise<T> {
  const destination = new PassThrough();
  // Its failures reach the caller through the two promises below; the upload may not be listening yet when the
  // writer fails at once (an option refused before the first byte).
  destination.on("error", () => undefined);
  const stop = (error: unknown) => {
    // Unblocks the other side: a writer waiting for room, or an upload waiting for bytes.
    destination.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  };
  const written = write(destination).then((result) => {
    destination.end();
    return result;
  }, stop);
  const uploaded = upload(destination, written).catch(stop);
  const [writing, uploading] = await Promise.allSettled([written, uploaded]);
  if (uploading.status === "rejected") {
    const becauseOfWriter = writing.status === "rejected" && isCausedBy(uploading.reason, writing.reason);
    if (!becauseOfWriter) throw uploading.reason;
  }
  if (writing.status === "rejected") throw writing.reason;
  return writing.value;
}
