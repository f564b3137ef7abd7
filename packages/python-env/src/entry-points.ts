/** One `name = module:attribute` line of a wheel's `entry_points.txt`. */
export interface EntryPoint {
  group: string;
  name: string;
  /** `module:attribute.path` as written, extras left out. */
  value: string;
}

/** Parses `entry_points.txt` (an INI file: `[group]` headers, `name = value` lines, `#`/`;` comments). */
export function parseEntryPoints(text: string): EntryPoint[] {
  const entries: EntryPoint[] = [];
  let group: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1]) {
      group = header[1].trim();
      continue;
    }
    const separator = line.indexOf("=");
    if (!group || separator < 0) continue;
    const name = line.slice(0, separator).trim();
    // Extras (`module:main [cli]`) only matter to installers that resolve them; the target code is the same.
    const value = line
      .slice(separator + 1)
      .replace(/\[.*\]\s*$/, "")
      .trim();
    if (name && value) entries.push({ group, name, value });
  }
  return entries;
}
