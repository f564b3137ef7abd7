const units = ["B", "kB", "MB", "GB", "TB"];

/** Bytes in decimal units, as the CLI prints them: `950 B`, `8.4 MB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A count and its noun, singular for one: `1 package`, `10,273 files`. */
export const formatCount = (count: number, noun: string, plural = `${noun}s`) =>
  `${count.toLocaleString("en")} ${count === 1 ? noun : plural}`;

/** `part` as a share of `whole`, one decimal: `12.5%` (`0%` of nothing). */
export const formatShare = (part: number, whole: number) =>
  `${whole > 0 ? ((100 * part) / whole).toFixed(1) : "0"}%`;
