import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileInfo, FileSystem } from "@cluster-pack/fs";

/**
 * What killed runs leave behind, and its removal. An upload that is killed (SIGKILL, a lost node) cannot clean up
 * after itself: its temporary names in the store and its work directories in TMPDIR stay. The next upload to the
 * same directory, and `prune`, remove them once they are clearly abandoned.
 */

/** Temporary names the adapters write beside a target: local `.partial`, HDFS `._COPYING_`, plugins `.uploading`. */
const STORE_TEMPORARY = /^\..+\.[0-9a-f]{12}\.(partial|_COPYING_|uploading)$/;
/** A temporary name younger than this may belong to an upload in progress. */
export const ABANDONED_AFTER_MS = 60 * 60_000;

/** Whether a store entry is a temporary upload name left long enough to be abandoned. */
export function isAbandonedTemporary(entry: FileInfo, now = Date.now()): boolean {
  if (entry.type !== "file" || !STORE_TEMPORARY.test(entry.name)) return false;
  const modified = entry.modifiedAt?.getTime();
  return modified !== undefined && now - modified > ABANDONED_AFTER_MS;
}

/**
 * Removes the abandoned temporary names of a store directory, and its abandoned incomplete uploads where the store
 * keeps them (S3); returns what was removed. A missing directory has none.
 */
export async function sweepStoreDirectory(
  fs: FileSystem,
  directory: string,
  now = Date.now(),
): Promise<string[]> {
  const entries = await fs.ls(directory).catch(() => []);
  const removed: string[] = [];
  if (fs.removeIncompleteUploads)
    removed.push(
      ...(await fs.removeIncompleteUploads(directory, new Date(now - ABANDONED_AFTER_MS)).catch(() => [])),
    );
  for (const entry of entries.filter((candidate) => isAbandonedTemporary(candidate, now))) {
    // Best effort: another sweeper may have been first, and a failure here must not fail an upload.
    await fs.rm(entry.path).then(
      () => removed.push(fs.toUri(entry.path)),
      () => undefined,
    );
  }
  return removed;
}

/** Work directories are named after the process, so that one whose process is gone can be told apart. */
const WORKSPACE = /^cluster-pack-(\d+)-/;

/** A new work directory in TMPDIR, named `cluster-pack-<pid>-<purpose>-XXXXXX`. */
export function makeWorkspace(purpose: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `cluster-pack-${process.pid}-${purpose}-`));
}

/** Whether a process of this host is alive (one of another user's counts). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** Removes the work directories in TMPDIR whose process is gone; returns their paths. */
export async function sweepWorkspaces(directory = tmpdir()): Promise<string[]> {
  const names = await readdir(directory).catch(() => []);
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(WORKSPACE.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || isProcessRunning(pid)) continue;
    await rm(join(directory, name), { recursive: true, force: true }).then(
      () => removed.push(join(directory, name)),
      () => undefined,
    );
  }
  return removed;
}
