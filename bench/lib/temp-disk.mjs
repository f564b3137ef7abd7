import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

/** Apparent size of everything under `directory`; entries that vanish mid-walk (a temp file removed) count 0. */
export async function treeBytes(directory) {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) total += await treeBytes(path);
    else
      total += await lstat(path).then(
        (stats) => stats.size,
        () => 0,
      );
  }
  return total;
}

/**
 * Samples the total size of a directory (a child's `TMPDIR`) every `intervalMs` until stopped, and keeps the
 * peak. A walk, not statfs: the directory sits on the disk the old write-then-upload used (/tmp), so timings are
 * not flattered by a tmpfs. It misses files that live less than one interval (none of ours is large) and files
 * unlinked while still open (our code removes its temporary files only when done with them).
 */
export function watchDirectory(directory, intervalMs = 50) {
  let peak = 0;
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const bytes = await treeBytes(directory);
      samples++;
      if (bytes > peak) peak = bytes;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    /** Stops sampling; resolves to the peak bytes, the number of samples and what is left in the directory. */
    async stop() {
      stopped = true;
      await loop;
      const leftBytes = await treeBytes(directory);
      return { peakBytes: Math.max(peak, leftBytes), samples, leftBytes };
    },
  };
}
