import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { openPutSource, type PutOptions, type PutSource, type TransferProgress } from "@cluster-pack/fs";
import type { S3Location } from "./s3-location.js";
import type { S3Settings } from "./s3-options.js";

/** S3's limits on a multipart upload (the last part may be smaller than the minimum). */
const maxParts = 10_000;
const maxPartSize = 5 * 1024 ** 3;

/** Wraps a failure of the caller's `beforeCommit`, so that it reaches the caller as it was thrown. */
export class CommitHookFailure extends Error {}

/** A multipart upload that could not be aborted: its parts stay until the bucket's lifecycle rule removes them. */
export class AbandonedUpload extends Error {
  constructor(
    readonly uploadId: string,
    readonly abortFailure: unknown,
    options: ErrorOptions,
  ) {
    super("upload failed and could not be aborted", options);
  }
}

/**
 * The size of every part. With the total known, all parts are equal and fit S3's 10,000. For a stream of unknown
 * length they grow by one `partSize` every 2,500 parts, so 10,000 parts reach 25,000 × `partSize` (200 GiB at the
 * 8 MiB default) while a typical archive keeps small parts.
 */
export function partSizer(partSize: number, totalBytes: number | undefined): (partNumber: number) => number {
  if (totalBytes !== undefined) {
    const size = Math.min(maxPartSize, Math.max(partSize, Math.ceil(totalBytes / maxParts)));
    return () => size;
  }
  return (partNumber) => Math.min(maxPartSize, partSize * (1 + Math.floor((partNumber - 1) / 2_500)));
}

/**
 * Cuts a byte stream into parts of the sizes `sizeOf` gives, each copied once into a buffer of its own. The last
 * part is shorter (an empty stream gives one empty part); at most one part is held here besides those yielded.
 */
async function* partsOf(
  source: AsyncIterable<Uint8Array>,
  sizeOf: (partNumber: number) => number,
): AsyncGenerator<Buffer> {
  let partNumber = 1;
  let part = Buffer.allocUnsafe(sizeOf(partNumber));
  let filled = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      const taken = Math.min(part.length - filled, chunk.length - offset);
      part.set(chunk.subarray(offset, offset + taken), filled);
      filled += taken;
      offset += taken;
      if (filled === part.length) {
        yield part;
        partNumber += 1;
        part = Buffer.allocUnsafe(sizeOf(partNumber));
        filled = 0;
      }
    }
  }
  if (filled > 0 || partNumber === 1) yield part.subarray(0, filled);
}

/**
 * Uploads a file or stream to its final key: one PutObject when it fits in the first part, a multipart upload
 * above. Either way the object appears only whole, at the last request (PutObject, or CompleteMultipartUpload,
 * sent after `beforeCommit`); a failed multipart upload is aborted so that no parts are left (when even the abort
 * fails, `AbandonedUpload` says so). Memory: at most `queueSize` parts in flight plus the one being filled, each
 * of the part size; every part is a buffer, so the SDK's retries resend it. Errors are the SDK's (or the
 * source's); the caller maps them.
 */
export async function uploadObject(
  client: S3Client,
  target: S3Location,
  source: PutSource,
  settings: S3Settings,
  options: PutOptions,
): Promise<void> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const opened = await openPutSource(source, options.size);
  const totalBytes = opened.size;
  const sizeOf = partSizer(settings.partSize, totalBytes);
  const sendOptions = signal ? { abortSignal: signal } : {};
  const ifAbsent = options.overwrite === false ? { IfNoneMatch: "*" } : {};
  const object = { Bucket: target.bucket, Key: target.key };

  let transferredBytes = 0;
  const report = (bytes: number) => {
    transferredBytes += bytes;
    const progress: TransferProgress = { transferredBytes };
    if (totalBytes !== undefined) progress.totalBytes = totalBytes;
    onProgress?.(progress);
  };
  const commit = async () => {
    try {
      await options.beforeCommit?.();
    } catch (error) {
      throw new CommitHookFailure("beforeCommit failed", { cause: error });
    }
  };

  const parts = partsOf(opened.stream, sizeOf);
  let uploadId: string | undefined;

  /** Parts 2… come from `parts`, up to `queueSize` requests at once; the first part's failure stops the reading. */
  const uploadParts = async (firstPart: Buffer) => {
    const created = await client.send(new CreateMultipartUploadCommand(object), sendOptions);
    uploadId = created.UploadId;
    if (!uploadId) throw new Error("CreateMultipartUpload answered without an UploadId");
    const UploadId = uploadId;
    const completed: CompletedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let partFailure: { error: unknown } | undefined;
    const send = (PartNumber: number, Body: Buffer) => {
      const request = new UploadPartCommand({
        ...object,
        UploadId,
        PartNumber,
        Body,
        ContentLength: Body.length,
      });
      const sending: Promise<void> = client
        .send(request, sendOptions)
        .then(
          ({ ETag }) => {
            completed.push({ PartNumber, ETag });
            report(Body.length);
          },
          (error: unknown) => {
            partFailure ??= { error };
          },
        )
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    };
    let partNumber = 1;
    send(partNumber, firstPart);
    try {
      for await (const part of parts) {
        partNumber += 1;
        if (partNumber > maxParts)
          throw new Error(`the stream needs more than ${maxParts} parts: raise partSize`);
        send(partNumber, part);
        while (inFlight.size >= settings.queueSize && !partFailure) await Promise.race(inFlight);
        if (partFailure) break;
      }
    } finally {
      // Settled before any abort: a part still arriving after it would be stored again as a stray part.
      await Promise.all(inFlight);
    }
    if (partFailure) throw partFailure.error;
    await commit();
    completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const complete = new CompleteMultipartUploadCommand({
      ...object,
      ...ifAbsent,
      UploadId,
      MultipartUpload: { Parts: completed },
    });
    await client.send(complete, sendOptions);
    uploadId = undefined;
  };

  try {
    const first = await parts.next();
    const firstPart = first.done ? Buffer.alloc(0) : first.value;
    if (firstPart.length < sizeOf(1)) {
      // The whole object fits in one request.
      await commit();
      const request = new PutObjectCommand({
        ...object,
        ...ifAbsent,
        Body: firstPart,
        ContentLength: firstPart.length,
      });
      await client.send(request, sendOptions);
      report(firstPart.length);
    } else {
      await uploadParts(firstPart);
    }
  } catch (error) {
    // Stops reading the source (an open file, or a packer writing into it) before the abort.
    opened.stream.destroy();
    if (uploadId) {
      try {
        await client.send(new AbortMultipartUploadCommand({ ...object, UploadId: uploadId }));
      } catch (abortFailure) {
        throw new AbandonedUpload(uploadId, abortFailure, { cause: error });
      }
    }
    throw error;
  } finally {
    opened.stream.destroy();
  }
  // The last event says "all of it, out of this many", even for a stream of unknown size.
  if (totalBytes === undefined) onProgress?.({ transferredBytes, totalBytes: transferredBytes });
}
