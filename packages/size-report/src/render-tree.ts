import { sanitizeLine } from "@cluster-pack/errors";
import { formatBytes, formatCount, formatShare } from "./format-bytes.js";
import type { SizeReport } from "./size-report.js";

export interface TreeOptions {
  /** Columns available; default 80. Names are cut and bars shortened to fit. */
  width?: number;
  /** How many top-level directories to show under each package; default 3. */
  directories?: number;
  /** How many packages to show; default all. */
  packages?: number;
  /** Emphasis for package lines (the CLI passes bold on a colour terminal); default none. */
  emphasize?: (text: string) => string;
  /** For secondary text (directory lines, notes); default none. */
  dim?: (text: string) => string;
}

const cut = (text: string, width: number) =>
  text.length <= width ? text : width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;

const bar = (part: number, whole: number, width: number) => {
  if (width <= 0) return "";
  const filled = whole > 0 ? Math.round((part / whole) * width) : 0;
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
};

/**
 * The report for a terminal: each package with its size, a bar of its share and its largest top-level
 * directories, then what duplicates and the common excludes would save. Names are shown through `sanitizeLine`.
 */
export function renderTree(report: SizeReport, options: TreeOptions = {}): string {
  const width = Math.max(40, options.width ?? 80);
  const emphasize = options.emphasize ?? ((text: string) => text);
  const dim = options.dim ?? ((text: string) => text);
  const shown = report.packages.slice(0, options.packages ?? report.packages.length);
  const perPackage = options.directories ?? 3;
  // Columns: name, size (right-aligned, 9), share (6), bar; the bar takes what is left, up to 30.
  const sizeWidth = 9;
  const shareWidth = 6;
  const nameWidth = Math.min(
    Math.max(
      12,
      ...shown.map((p) => sanitizeLine(p.name ?? "(no distribution)").length),
      ...shown.flatMap((p) => p.directories.slice(0, perPackage).map((d) => sanitizeLine(d.name).length + 2)),
    ),
    Math.floor(width * 0.45),
  );
  const barWidth = Math.max(0, Math.min(30, width - nameWidth - sizeWidth - shareWidth - 4));
  const line = (name: string, size: number, whole: number) =>
    `${cut(name, nameWidth).padEnd(nameWidth)} ${formatBytes(size).padStart(sizeWidth)} ${formatShare(size, whole).padStart(shareWidth)} ${bar(size, whole, barWidth)}`.trimEnd();

  const lines = [
    `${emphasize(formatBytes(report.totalSize))} in ${formatCount(report.files, "file")}, ${formatCount(report.packages.filter((p) => p.name !== null).length, "package")}`,
  ];
  for (const p of shown) {
    lines.push(emphasize(line(sanitizeLine(p.name ?? "(no distribution)"), p.size, report.totalSize)));
    for (const directory of p.directories.slice(0, perPackage))
      lines.push(dim(line(`  ${sanitizeLine(directory.name)}`, directory.size, p.size)));
    if (p.directories.length > perPackage) lines.push(dim(`  … ${p.directories.length - perPackage} more`));
  }
  if (shown.length < report.packages.length)
    lines.push(dim(`… ${report.packages.length - shown.length} more packages`));
  lines.push("");
  const largestSet = report.duplicates[0];
  lines.push(
    cut(
      largestSet
        ? `duplicated files: ${formatBytes(report.duplicateBytes)} (largest: ${largestSet.paths.length} × ${sanitizeLine(largestSet.paths[0] ?? "")})`
        : "duplicated files: none",
      width,
    ),
  );
  const union = report.excludeSavings.length > 1 ? report.excludeSavings.at(-1) : undefined;
  for (const saving of report.excludeSavings) {
    if (saving.bytes === 0) continue;
    const patterns =
      saving === union
        ? "(the patterns above)"
        : saving.patterns.map((pattern) => `--exclude '${sanitizeLine(pattern)}'`).join(" ");
    const head = `${`${saving.label}:`.padEnd(19)} ${formatBytes(saving.bytes).padStart(sizeWidth)} `;
    lines.push(`${head}${dim(cut(patterns, width - head.length))}`);
  }
  return lines.join("\n");
}
