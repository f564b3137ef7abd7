import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { basenameOf, metadataPathOf } from "@cluster-pack/env-usage";
import { firstLine } from "@cluster-pack/errors";
import { type FileSystem, isStorageError } from "@cluster-pack/fs";
import type { ArchiveMetadata } from "./archive-metadata.js";
import { ShippingError } from "./errors.js";
import type { ProgressListener } from "./progress.js";
import { parentOf } from "./storage.js";

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export interface PublishOptions {
  fs: FileSystem;
  /** The archive's final path, in the file system's path space. */
  path: string;
  /** The finished local archive. */
  localArchive: string;
  sha256: string;
  metadata: Omit<ArchiveMetadata, "sha256" | "size" | "created">;
  onProgress?: ProgressListener;
}

async function removeQuietly(fs: FileSystem, path: string) {
  try {
    await fs.rm(path);
  } catch {
    // Best effort: a leftover temporary name is harmless, the final paths are what readers look at.
  }
}

/**
 * Publishes an archive and its metadata so that readers never see a half-written or mismatched pair:
 * 1. `put` to a hidden temporary name beside the target (same directory, so the rename stays inside one bucket or
 *    namespace) and check its size (and, on a local store where it is cheap, its sha256);
 * 2. remove the old metadata, then rename the archive over the final path: from here until step 3 the archive
 *    has no metadata, which readers treat as "not there" (the next upload packs again), never as "trusted";
 * 3. write the metadata (a `put`, atomic in every adapter) last.
 * A failure in step 1 leaves the previous archive and metadata untouched.
 */
export async function publishArchive(options: PublishOptions): Promise<ArchiveMetadata> {
  const { fs, path, localArchive } = options;
  const uri = fs.toUri(path);
  const size = (await stat(localArchive)).size;
  const directory = parentOf(path);
  const temporary = `${directory}/.${basenameOf(path)}.${randomBytes(6).toString("hex")}.uploading`;
  const step = async <T>(what: string, location: string, action: () => Promise<T>): Promise<T> => {
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

  await step("creating the directory", fs.toUri(directory), () => fs.mkdir(directory));
  try {
    await step("uploading the archive", uri, () =>
      fs.put(localArchive, temporary, {
        overwrite: true,
        size,
        onProgress: (progress) =>
          options.onProgress?.({
            phase: "upload",
            transferredBytes: progress.transferredBytes,
            totalBytes: progress.totalBytes ?? size,
            target: uri,
          }),
      }),
    );
    const uploaded = await step("checking the upload", uri, () => fs.stat(temporary));
    if (uploaded.size !== size)
      throw new ShippingError(
        "VERIFICATION_FAILED",
        `the store holds ${uploaded.size} bytes where ${size} were sent`,
        { location: uri },
      );
    if (fs.scheme === "file") {
      // Local paths are the file system's own path space: re-reading the stored copy is cheap here.
      const stored = await sha256OfFile(temporary);
      if (stored !== options.sha256)
        throw new ShippingError(
          "VERIFICATION_FAILED",
          "the stored archive's sha256 differs from the packed one",
          {
            location: uri,
          },
        );
    }
    const metadataPath = metadataPathOf(path);
    await step("removing the previous metadata", fs.toUri(metadataPath), async () => {
      if (await fs.exists(metadataPath)) await fs.rm(metadataPath);
    });
    await step("moving the archive into place", uri, () => fs.rename(temporary, path, { overwrite: true }));
  } catch (error) {
    await removeQuietly(fs, temporary);
    throw error;
  }

  const metadata: ArchiveMetadata = {
    ...options.metadata,
    sha256: options.sha256,
    size,
    created: new Date().toISOString(),
  };
  const metadataPath = metadataPathOf(path);
  const body = `${JSON.stringify(metadata, null, 4)}\n`;
  await step("writing the metadata", fs.toUri(metadataPath), () =>
    fs.put(Readable.from([Buffer.from(body)]), metadataPath, {
      overwrite: true,
      size: Buffer.byteLength(body),
    }),
  );
  return metadata;
}
