import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { FileSystem, PutOptions, PutResult, PutSource } from "./file-system.js";

/**
 * `fs.put` with `beforeCommit` honoured by any adapter: natively where the adapter calls it, otherwise by putting
 * the bytes to a hidden temporary name beside the target, running the hook, then renaming over the target (the
 * temporary name is removed again when anything fails).
 */
export async function putCommitting(
  fs: FileSystem,
  source: PutSource,
  path: string,
  options: PutOptions = {},
): Promise<PutResult> {
  const { beforeCommit, ...putOptions } = options;
  if (!beforeCommit || fs.supportsBeforeCommit) return (await fs.put(source, path, options)) ?? {};
  // Same directory, so the rename stays inside one bucket or namespace.
  const temporary = posix.join(
    posix.dirname(path),
    `.${posix.basename(path)}.${randomBytes(6).toString("hex")}.uploading`,
  );
  try {
    const result = (await fs.put(source, temporary, { ...putOptions, overwrite: true })) ?? {};
    await beforeCommit();
    await fs.rename(temporary, path, { overwrite: options.overwrite !== false });
    return result;
  } catch (error) {
    await fs.rm(temporary).catch(() => {
      // Best effort: a leftover hidden name is harmless, the target is what readers look at.
    });
    throw error;
  }
}
