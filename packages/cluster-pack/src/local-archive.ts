import { rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { type StorageOptions, schemeOf } from "@cluster-pack/fs";
import { makeWorkspace } from "./leftovers.js";
import { resolveStorage } from "./storage.js";

export interface LocalArchiveOptions {
  fsArgs?: StorageOptions;
  signal?: AbortSignal;
}

/**
 * Runs `use` with a local copy of an archive: a local path (or `file://` URL) as it is, a stored one downloaded into
 * a work directory under its own name (the extension says the format) and removed once `use` settles.
 */
export async function withLocalArchive<T>(
  location: string,
  options: LocalArchiveOptions,
  use: (localPath: string) => Promise<T>,
): Promise<T> {
  const { fs, path } = await resolveStorage(location, options.fsArgs ?? {});
  if (schemeOf(location) === "file") {
    // Refused here in the store's own words (NOT_FOUND…) rather than later by a reader.
    await fs.stat(path);
    return use(path);
  }
  const workspace = await makeWorkspace("fetch");
  try {
    const localPath = join(workspace, basename(path));
    await fs.get(path, localPath, { ...(options.signal && { signal: options.signal }) });
    return await use(localPath);
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}
