import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import {
  openPutSource,
  type PutOptions,
  type PutSource,
  type StoredChecksum,
  type TransferProgress,
  withRetries,
} from "@cluster-pack/fs";
import { ChecksumMismatch } from "./errors.js";
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

/** What S3 says about a stored object or part: its ETag, and the encryption that decides what the ETag means. */
interface StoredAnswer {
  ETag?: string | undefined;
  ServerSideEncryption?: string | undefined;
  SSECustomerAlgorithm?: string | undefined;
}

const md5Of = (bytes: Uint8Array) => createHash("md5").update(bytes).digest();

/** ETags come quoted (`"hex"`); S3 ignores the quotes when it compares them, and so does this. */
const unquoted = (etag: string | undefined) => (etag ?? "").replaceAll('"', "");

/** Under SSE-KMS, DSSE-KMS and SSE-C the ETag is not an MD5 of the bytes, so it cannot be checked. */
const etagIsMd5 = (answer: StoredAnswer) =>
  !answer.SSECustomerAlgorithm && !(answer.ServerSideEncryption ?? "").startsWith("aws:kms");

/**
 * The checksums a store may give a multipart object as its ETag: S3's (MinIO's, Ceph's) MD5 of the parts'
 * binary MD5s with the part count, or the MD5 of the whole object (s3rver).
 */
function multipartChecksums(partMd5s: readonly Buffer[], wholeMd5: Buffer): StoredChecksum[] {
  const ofParts = md5Of(Buffer.concat(partMd5s)).toString("hex");
  return [
    { algorithm: "s3-multipart-md5", value: `${ofParts}-${partMd5s.length}` },
    { algorithm: "md5", value: wholeMd5.toString("hex") },
  ];
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

/** How an upload reaches its target, and reports what it does. */
export interface UploadTarget {
  client: S3Client;
  location: S3Location;
  /** The target's URI, for messages and retry lines. */
  uri: string;
  settings: S3Settings;
}

/**
 * Uploads a file or stream to its final key: one PutObject when it fits in the first part, a multipart upload
 * above. Either way the object appears only whole, at the last request (PutObject, or CompleteMultipartUpload,
 * sent after `beforeCommit`); a failed multipart upload is aborted so that no parts are left (when even the abort
 * fails, `AbandonedUpload` says so). Memory: at most `queueSize` parts in flight plus the one being filled, each
 * of the part size; every part is a buffer, so the SDK's retries resend it.
 *
 * Integrity: every PutObject and UploadPart carries its Content-MD5 (S3 refuses a body that does not match), and
 * the ETag of each answer is compared with the MD5 of the bytes sent; a part or object that differs is sent
 * again (a retry of the network policy), and the multipart object's ETag is compared after completion. Returns
 * the checksum the stored object was verified with, if its ETag is an MD5 (not under KMS or SSE-C encryption).
 * Errors are the SDK's, the source's or `ChecksumMismatch`; the caller maps them.
 */
export async function uploadObject(
  target: UploadTarget,
  source: PutSource,
  options: PutOptions,
): Promise<StoredChecksum | undefined> {
  const { client, location, uri, settings } = target;
  const { onProgress } = options;
  options.signal?.throwIfAborted();
  const signal = manyListenersOf(options.signal);
  const opened = await openPutSource(source, options.size);
  const totalBytes = opened.size;
  const sizeOf = partSizer(settings.partSize, totalBytes);
  const sendOptions = signal ? { abortSignal: signal } : {};
  const ifAbsent = options.overwrite === false ? { IfNoneMatch: "*" } : {};
  const object = { Bucket: location.bucket, Key: location.key };

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

  /**
   * Sends a request built for `md5` until the store answers with that MD5 as ETag (or one it cannot compare),
   * within the policy's attempts; `undo` runs before a resend, after a mismatch. `what` names the request in
   * retry lines, `stored` the stored bytes in the mismatch message. Resolves to the answer and whether its ETag
   * was compared.
   */
  const sendChecked = <T extends StoredAnswer>(
    what: string,
    stored: string,
    md5: Buffer,
    send: () => Promise<T>,
    undo?: (storedEtag: string) => Promise<unknown>,
  ) => {
    let mismatched: string | undefined;
    return withRetries(
      async () => {
        if (mismatched !== undefined) await undo?.(mismatched);
        const answer = await send();
        if (!etagIsMd5(answer)) return { answer, compared: false };
        const etag = unquoted(answer.ETag);
        if (etag !== md5.toString("hex")) {
          mismatched = etag;
          throw new ChecksumMismatch(
            `${stored} differs from the bytes sent (ETag ${etag}, MD5 sent ${md5.toString("hex")})`,
          );
        }
        return { answer, compared: true };
      },
      {
        policy: settings.policy,
        isRetriable: (error) => error instanceof ChecksumMismatch,
        what,
        log: settings.log,
        signal,
      },
    );
  };

  const parts = partsOf(opened.stream, sizeOf);
  let uploadId: string | undefined;

  /** Parts 2… come from `parts`, up to `queueSize` requests at once; the first part's failure stops the reading. */
  const uploadParts = async (firstPart: Buffer): Promise<StoredChecksum | undefined> => {
    // Never cancelled half-way: an upload created while its answer was cut off could not be aborted (no id).
    const created = await client.send(new CreateMultipartUploadCommand(object));
    uploadId = created.UploadId;
    if (!uploadId) throw new Error("CreateMultipartUpload answered without an UploadId");
    signal?.throwIfAborted();
    const UploadId = uploadId;
    const completed: CompletedPart[] = [];
    const partMd5s: Buffer[] = [];
    const whole = createHash("md5");
    let comparable = true;
    const inFlight = new Set<Promise<void>>();
    let partFailure: { error: unknown } | undefined;
    const send = (PartNumber: number, Body: Buffer) => {
      const md5 = md5Of(Body);
      partMd5s[PartNumber - 1] = md5;
      whole.update(Body);
      const request = new UploadPartCommand({
        ...object,
        UploadId,
        PartNumber,
        Body,
        ContentLength: Body.length,
        ContentMD5: md5.toString("base64"),
      });
      const sending: Promise<void> = sendChecked(
        `UploadPart ${uri} (part ${PartNumber})`,
        `the stored part ${PartNumber}`,
        md5,
        () => client.send(request, sendOptions),
      )
        .then(
          ({ answer, compared }) => {
            comparable &&= compared;
            completed.push({ PartNumber, ETag: answer.ETag });
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
    const expected = multipartChecksums(partMd5s, whole.digest());
    const verifiedBy = (answer: StoredAnswer) =>
      expected.find(({ value }) => value === unquoted(answer.ETag));
    const complete = new CompleteMultipartUploadCommand({
      ...object,
      ...ifAbsent,
      UploadId,
      MultipartUpload: { Parts: completed },
    });
    let answer: StoredAnswer;
    try {
      // Not cancelled once sent: the store may complete it anyway, and the outcome must be known.
      answer = await client.send(complete);
    } catch (error) {
      // A retry of a completion whose answer was lost finds the upload gone (or, created if absent, the key
      // taken): it succeeded when the object there is the one these parts make.
      const stored = isRetriedCompletion(error) ? await headOf(client, object) : undefined;
      if (!stored || !etagIsMd5(stored) || !verifiedBy(stored)) throw error;
      answer = stored;
    }
    uploadId = undefined;
    if (!comparable || !etagIsMd5(answer)) return undefined;
    const verified = verifiedBy(answer);
    if (!verified) {
      throw new ChecksumMismatch(
        `the stored object differs from the parts sent (ETag ${unquoted(answer.ETag)}, expected ${expected[0]?.value})`,
      );
    }
    return verified;
  };

  /** PutObject; after a mismatch with `overwrite: false`, the object it made is deleted before the resend. */
  const putWhole = async (body: Buffer): Promise<StoredChecksum | undefined> => {
    await commit();
    const md5 = md5Of(body);
    const request = new PutObjectCommand({
      ...object,
      ...ifAbsent,
      Body: body,
      ContentLength: body.length,
      ContentMD5: md5.toString("base64"),
    });
    const removeMismatched = (storedEtag: string) =>
      client.send(new DeleteObjectCommand({ ...object, IfMatch: `"${storedEtag}"` }), sendOptions);
    const { compared } = await sendChecked(
      `PutObject ${uri}`,
      "the stored object",
      md5,
      async () => {
        try {
          return await client.send(request, sendOptions);
        } catch (error) {
          // A retry of a create-if-absent whose answer was lost finds its own object.
          const stored = isRetriedCompletion(error) ? await headOf(client, object) : undefined;
          if (stored && etagIsMd5(stored) && unquoted(stored.ETag) === md5.toString("hex")) return stored;
          throw error;
        }
      },
      options.overwrite === false ? removeMismatched : undefined,
    );
    report(body.length);
    return compared ? { algorithm: "md5", value: md5.toString("hex") } : undefined;
  };

  let verified: StoredChecksum | undefined;
  try {
    const first = await parts.next();
    const firstPart = first.done ? Buffer.alloc(0) : first.value;
    // The whole object fits in one request.
    if (firstPart.length < sizeOf(1)) verified = await putWhole(firstPart);
    else verified = await uploadParts(firstPart);
  } catch (error) {
    // Stops reading the source (an open file, or a packer writing into it) before the abort.
    opened.stream.destroy();
    if (uploadId) {
      try {
        await abortUpload(client, object, uploadId);
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
  return verified;
}

/**
 * A signal that follows the caller's and takes any number of listeners: every part in flight and each of its
 * retries listens to it, which would otherwise warn of a leak past ten.
 */
function manyListenersOf(signal: AbortSignal | undefined): AbortSignal | undefined {
  if (!signal) return undefined;
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  return controller.signal;
}

/**
 * Aborts a multipart upload until the store no longer lists it. A cancelled part request ends on the client at
 * once while the store may still be receiving it, and S3 documents that a part finishing after the abort can be
 * stored again: the abort is repeated until the listing of the key no longer has the upload (three times at most).
 */
async function abortUpload(client: S3Client, object: { Bucket: string; Key: string }, uploadId: string) {
  for (let attempt = 1; ; attempt++) {
    await client
      .send(new AbortMultipartUploadCommand({ ...object, UploadId: uploadId }))
      .catch((error: unknown) => {
        // A repeated abort may find the upload already gone: that is what it wanted.
        if (attempt === 1 || (error as { name?: unknown }).name !== "NoSuchUpload") throw error;
      });
    const listed = await client
      .send(new ListMultipartUploadsCommand({ Bucket: object.Bucket, Prefix: object.Key }))
      .catch(() => undefined);
    if (!listed?.Uploads?.some((upload) => upload.UploadId === uploadId) || attempt === 3) return;
    await sleep(250 * attempt);
  }
}

/**
 * Whether a failed write may be the retry of one that succeeded with its answer lost: the SDK sent it more than
 * once, and the store says the upload is gone or the key (created if absent) is taken.
 */
function isRetriedCompletion(error: unknown): boolean {
  const { name, $metadata } = (error ?? {}) as { name?: string; $metadata?: { attempts?: number } };
  return ($metadata?.attempts ?? 1) > 1 && (name === "NoSuchUpload" || name === "PreconditionFailed");
}

/** The object's ETag and encryption, or undefined when it cannot be read. */
async function headOf(client: S3Client, object: { Bucket: string; Key: string }) {
  return client.send(new HeadObjectCommand(object)).catch(() => undefined);
}
