import { addAbortSignal, pipeline } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import {
  openPutSource,
  type PutOptions,
  type PutSource,
  progressTap,
  type TransferProgress,
} from "@cluster-pack/fs";
import type { S3Location } from "./s3-location.js";
import type { S3Settings } from "./s3-options.js";

const maxParts = 10_000;

/**
 * Uploads a file or stream with lib-storage: one PutObject up to `partSize`, a multipart upload above it. The
 * object appears only when the upload completes; on failure lib-storage aborts the multipart upload, so no
 * parts are left behind. Errors are the SDK's (or the source's); the caller maps them.
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

  let bytesRead = 0;
  const counter = progressTap((progress) => {
    bytesRead = progress.transferredBytes;
  });
  // Aborting or a failing source errors the body, which makes lib-storage abort the multipart upload *before*
  // done() settles (Upload.abort() would settle first and clean up in the background).
  const body = pipeline(opened.stream, counter, () => undefined);
  if (signal) addAbortSignal(signal, body);

  const upload = new Upload({
    client,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: body,
      // Conditional create (AWS since 2024); stores that ignore it still got the caller's HEAD check.
      ...(options.overwrite === false && { IfNoneMatch: "*" }),
    },
    // A known size may need bigger parts to fit S3's 10,000-part limit.
    partSize: Math.max(settings.partSize, Math.ceil((totalBytes ?? 0) / maxParts)),
    queueSize: settings.queueSize,
    leavePartsOnError: false,
  });

  let last: TransferProgress | undefined;
  const report = (progress: TransferProgress) => {
    last = progress;
    onProgress?.(progress);
  };
  // lib-storage reports once per completed part, in completion order, with a running total.
  upload.on("httpUploadProgress", ({ loaded }) => {
    if (loaded === undefined || loaded <= (last?.transferredBytes ?? -1)) return;
    report(
      totalBytes === undefined ? { transferredBytes: loaded } : { transferredBytes: loaded, totalBytes },
    );
  });

  try {
    await upload.done();
  } finally {
    // After a failure lib-storage stops reading: release the source (an open file) now.
    body.destroy();
  }
  // The last event always says "all of it, out of this many", even for a stream of unknown size.
  if (last?.transferredBytes !== bytesRead || last.totalBytes === undefined) {
    report({ transferredBytes: bytesRead, totalBytes: bytesRead });
  }
}
