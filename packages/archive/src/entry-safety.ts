/**
 * Why extracting an entry would reach outside the extraction directory:
 * - `traversal`: its path (or a hard link's target) has a `..` component, which our zipapp bootstrap refuses
 *   outright and careless extractors follow upwards;
 * - `absolute`: its path (or a hard link's target) is absolute (`/etc/x`, `C:\x`, `\x`);
 * - `symlink`: a symlink resolving outside the directory (absolute, or `..` past the top, followed through the
 *   archive's other symlinks as the kernel would: `l1 -> .` and `l2 -> l1/..` each look inside, yet `l2` is the
 *   directory above), or an entry lying beneath one of the archive's symlinks (writing it follows the link).
 */
export type EntryRisk = "traversal" | "absolute" | "symlink";

export interface RiskyEntry {
  name: string;
  reason: EntryRisk;
}

export interface EntryShape {
  name: string;
  kind: string;
  /** A symlink's target, or a hard link's (`kind: "hardlink"`, a path from the archive's root). */
  target?: string;
}

/** Symlinks followed before resolution gives up, as Linux does (ELOOP): a loop reaches nothing. */
const MAX_LINK_HOPS = 40;

const isAbsolute = (path: string) => /^([/\\]|[A-Za-z]:)/.test(path);

/** A path's components, without the empty and `.` ones ("./a//b/" names the same entry as "a/b"). */
const components = (path: string) => path.split(/[/\\]/).filter((part) => part !== "" && part !== ".");

function pathRisk(path: string): EntryRisk | undefined {
  if (isAbsolute(path)) return "absolute";
  if (components(path).includes("..")) return "traversal";
  return undefined;
}

/** Whether resolving `rest` from the directory `start` (components under the root) leaves the root. */
function escapes(
  links: ReadonlyMap<string, string>,
  start: readonly string[],
  rest: readonly string[],
): boolean {
  const resolved = [...start];
  const pending = [...rest];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === "..") {
      if (resolved.length === 0) return true;
      resolved.pop();
      continue;
    }
    resolved.push(part);
    const target = links.get(resolved.join("/"));
    if (target === undefined) continue;
    if (++hops > MAX_LINK_HOPS) return false;
    if (isAbsolute(target)) return true;
    resolved.pop();
    pending.unshift(...components(target));
  }
  return false;
}

/** The entries that would reach outside the extraction directory, in stored order, each once. */
export function riskyEntries(entries: readonly EntryShape[]): RiskyEntry[] {
  const links = new Map<string, string>();
  for (const entry of entries)
    if (entry.kind === "symlink" && entry.target !== undefined)
      links.set(components(entry.name).join("/"), entry.target);
  const risky: RiskyEntry[] = [];
  for (const entry of entries) {
    const parts = components(entry.name);
    let reason = pathRisk(entry.name);
    if (reason === undefined && entry.kind === "hardlink" && entry.target !== undefined) {
      reason = pathRisk(entry.target);
      // A hard link made through one of the archive's symlinks would share a file outside (which conda-unpack
      // then rewrites in place): its target must be reached without crossing a link.
      const target = components(entry.target);
      if (reason === undefined && target.some((_, end) => links.has(target.slice(0, end + 1).join("/"))))
        reason = "symlink";
    }
    if (reason === undefined && parts.some((_, end) => end > 0 && links.has(parts.slice(0, end).join("/"))))
      reason = "symlink";
    if (reason === undefined && entry.kind === "symlink" && entry.target !== undefined) {
      if (isAbsolute(entry.target) || escapes(links, parts.slice(0, -1), components(entry.target)))
        reason = "symlink";
    }
    if (reason !== undefined) risky.push({ name: entry.name, reason });
  }
  return risky;
}

const explanations: Record<EntryRisk, string> = {
  traversal: "its path climbs out of the extraction directory with ..",
  absolute: "its path is absolute",
  symlink: "a symlink resolving outside the extraction directory, or an entry beneath a symlink",
};

/** One line for a risky entry, after `entry "<name>": `. */
export const explainRisk = (reason: EntryRisk): string => `unsafe entry: ${explanations[reason]}`;
