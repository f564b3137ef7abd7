/** The entries of a comma-separated list (`spark.yarn.dist.files`, `spark.submit.pyFiles`), blanks dropped. */
export const splitCommaList = (list: string | undefined): string[] =>
  (list ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");

/**
 * Appends entries to a comma-separated list, keeping the user's entries first and in their order, and adding each
 * entry once: a property the user already set is extended, never overwritten. Each addition may itself be a list.
 */
export function mergeCommaList(existing: string | undefined, additions: Iterable<string>): string {
  const merged = splitCommaList(existing);
  const seen = new Set(merged);
  for (const addition of additions)
    for (const entry of splitCommaList(addition))
      if (!seen.has(entry)) {
        seen.add(entry);
        merged.push(entry);
      }
  return merged.join(",");
}
