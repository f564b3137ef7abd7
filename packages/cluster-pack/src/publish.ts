import { stat } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import { metadataPathOf } from "@cluster-pack/env-usage";
import { firstLine } from "@cluster-pack/errors";
import {
  type FileSystem,
  isStorageError,
  networkPolicyOf,
  putCommitting,
  type StoredChecksum,
  withRetries,
} from "@cluster-pack/fs";
import type { ArchiveMetadata } from "./archive-metadata.js";
import { ShippingError } from "./errors.js";
import type { ProgressListener } from "./progress.js";
import type { PublicationLease } from "./publication-lease.js";
import { parentOf } from "./storage.js";
import { streamed } from "./streamed-write.js";

export { sha256OfLocalFile as sha256OfFile } from "@cluster-pack/fs";

/** The sha256 (hex) and size of an archive as its writer wrote it. */
export interface WrittenArchive {
  sha256: string;
  size: number;
}

/**
 * What is published: a finished local archive (its sha256 already known), or a writer (a packer) that streams the
 * archive straight into the upload and reports the sha256 and size of the bytes it wrote, hashed on their way.
 */
export type ArchiveSource =
  | { file: string; sha256: string }
  | {
      write: (destination: Writable) => Promise<WrittenArchive>;
      /** Permission bits where the store keeps them (a file source carries its own): `0o755` for a zipapp. */
      mode?: number;
    };

export interface PublishOptions {
  fs: FileSystem;
  /** The archive's final path, in the file system's path space. */
  path: string;
  archive: ArchiveSource;
  metadata: Omit<ArchiveMetadata, "sha256" | "size" | "created" | "checksum">;
  onProgress?: ProgressListener;
  /** Held by the caller for the whole publication: checked right before the archive and the metadata change. */
  lease?: PublicationLease;
  /** Cancels the upload: the store keeps its previous archive and metadata, nothing temporary stays. */
  signal?: AbortSignal;
}

type Step = <T>(what: string, location: string, action: () => Promise<T>) => Promise<T>;

const step: Step = async (what, location, action) => {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ShippingError) throw error;
    throw new ShippingError(
      "UPLOAD_FAILED",
      `${what} failed: ${isStorageError(error) ? error.detail : firstLine(error)}`,
      {
        location,
        cause: error,
      },
    );
  }
};

/**
 * Publishes an archive and its metadata so that readers never trust a mismatched or half-written pair:
 * 1. the archive goes to its final path in one `put`, which every adapter makes appear whole or not at all
 *    (S3: a PutObject or a completed multipart upload, no temporary key and no copy; HDFS and local: a temporary
 *    name renamed; plugins without the hook: the same, by `putCommitting`);
 * 2. right before the new bytes replace the old (`beforeCommit`, once every byte is stored), the old metadata is
 *    removed: from then until step 3 the archive has no metadata, which readers treat as "not there" (the next
 *    upload packs again), never as "trusted";
 * 3. the size is checked, and the metadata, with the sha256 and size of what was sent and the store's checksum the
 *    adapter verified the stored bytes with, is written last.
 * The adapter checks the stored bytes against those sent before step 2 (a bit flipped in transit fails the put).
 * A failure before step 2 (packing, the network, the store) leaves the previous archive and metadata untouched.
 * Under a lease (one publisher per path), the lease is checked before steps 2 and 3: a publisher whose lease was
 * broken (it looked dead) publishes nothing more, so two publishers never leave a mismatched pair.
 */
export async function publishArchive(options: PublishOptions): Promise<ArchiveMetadata> {
  const { fs, path, archive } = options;
  const uri = fs.toUri(path);
  const directory = parentOf(path);
  const metadataPath = metadataPathOf(path);
  const knownSize = "file" in archive ? (await stat(archive.file)).size : undefined;
  await step("creating the directory", fs.toUri(directory), () => fs.mkdir(directory));

  const removeMetadata = async () => {
    await options.lease?.assertHeld();
    await step("removing the previous metadata", fs.toUri(metadataPath), async () => {
      await fs.rm(metadataPath).catch((error: unknown) => {
        if (!isStorageError(error, "NOT_FOUND")) throw error;
      });
    });
  };
  const put = (source: string | Readable, beforeCommit: () => Promise<void>) =>
    step("uploading the archive", uri, () =>
      putCommitting(fs, source, path, {
        overwrite: true,
        ...(options.signal && { signal: options.signal }),
        ...(knownSize !== undefined && { size: knownSize }),
        ...("mode" in archive && archive.mode !== undefined && { mode: archive.mode }),
        beforeCommit,
        onProgress: (progress) =>
          options.onProgress?.({
            phase: "upload",
            transferredBytes: progress.transferredBytes,
            ...(progress.totalBytes !== undefined && { totalBytes: progress.totalBytes }),
            target: uri,
          }),
      }),
    );

  let sha256: string;
  let size: number;
  let checksum: StoredChecksum | undefined;
  if ("file" in archive) {
    checksum = (await put(archive.file, removeMetadata)).verified;
    sha256 = archive.sha256;
    size = knownSize ?? 0;
  } else {
    ({ sha256, size } = await streamed(archive.write, async (source, written) => {
      const result = await put(source, async () => {
        // Only a complete archive may replace the old one: the writer must have finished without error.
        await written;
        await removeMetadata();
      });
      checksum = result.verified;
    }));
    // The store could not know the size in advance: the last event says "all of it".
    options.onProgress?.({ phase: "upload", transferredBytes: size, totalBytes: size, target: uri });
  }

  const stored = await step("checking the upload", uri, () => fs.stat(path));
  if (stored.size !== size)
    throw new ShippingError(
      "VERIFICATION_FAILED",
      `the store holds ${stored.size} bytes where ${size} were sent`,
      {
        location: uri,
      },
    );

  const metadata: ArchiveMetadata = {
    ...options.metadata,
    sha256,
    size,
    ...(checksum && { checksum }),
    created: new Date().toISOString(),
  };
  const body = `${JSON.stringify(metadata, null, 4)}\n`;
  await options.lease?.assertHeld();
  await step("writing the metadata", fs.toUri(metadataPath), () =>
    // The body is in memory: a write the store could not verify (a flipped bit) is simply sent again.
    withRetries(
      () =>
        fs.put(Readable.from([Buffer.from(body)]), metadataPath, {
          overwrite: true,
          size: Buffer.byteLength(body),
          ...(options.signal && { signal: options.signal }),
        }),
      {
        policy: networkPolicyOf({ maxAttempts: 3 }),
        isRetriable: (error) => isStorageError(error, "TRANSIENT"),
        what: `writing ${fs.toUri(metadataPath)}`,
        signal: options.signal,
      },
    ),
  );
  return metadata;
}
