import { redactUrlCredentials, sanitizeLine } from "@cluster-pack/errors";
import { formatBytes, formatCount, formatShare } from "./format-bytes.js";
import type { PackageSize, SizeReport } from "./size-report.js";
import { HEADER_HEIGHT, packageColors, type TreemapRect, treemapLayout } from "./treemap-layout.js";

/** The treemap's drawing size, in SVG pixels; the page scales it to the window's width. */
export const TREEMAP_WIDTH = 1200;
export const TREEMAP_HEIGHT = 600;

export interface HtmlOptions {
  /** The page's title; default "Size report". */
  title?: string;
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** A name from the environment's files, shown as text: control characters as `\xNN`, markup escaped. */
export const escapeHtml = (value: string) =>
  sanitizeLine(value).replace(/[&<>"']/g, (character) => ENTITIES[character] ?? character);

const packageLabel = (name: string | null) => name ?? "(no distribution)";

// The SVG is drawn without a browser to measure text: an average glyph of the sans-serif stack is about 0.6 em,
// so a label is cut to what fits that estimate.
const fitText = (text: string, width: number, fontSize: number) => {
  const room = Math.floor((width - 8) / (fontSize * 0.6));
  if (room < 3) return "";
  return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
};

/** Whether dark text reads better than white on `fill` (relative luminance, as WCAG computes it, roughly). */
function isLight(fill: string): boolean {
  const channel = (at: number) => (Number.parseInt(fill.slice(at, at + 2), 16) / 255) ** 2.2;
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5) > 0.4;
}

function svgRect(rect: TreemapRect, total: number): string {
  const name = packageLabel(rect.packageName);
  const what = rect.depth === 1 ? name : `${name}: ${rect.directory ?? ""}`;
  const title = `<title>${escapeHtml(what)} — ${formatBytes(rect.size)} (${formatShare(rect.size, total)})</title>`;
  const box = `x="${rect.x}" y="${rect.y}" width="${rect.width}" height="${rect.height}" fill="${rect.fill}"`;
  const labels: string[] = [];
  if (rect.depth === 1) {
    // The name matters more than the size: when both do not fit, the size is dropped.
    const full = `${name}  ${formatBytes(rect.size)}`;
    const label = fitText(full, rect.width, 13) === full ? full : fitText(name, rect.width, 13);
    const tone = isLight(rect.fill) ? "head dark" : "head";
    if (label && rect.height >= HEADER_HEIGHT)
      labels.push(`<text class="${tone}" x="${rect.x + 5}" y="${rect.y + 14}">${escapeHtml(label)}</text>`);
  } else if (rect.height >= 18) {
    const label = fitText(rect.directory ?? "", rect.width, 12);
    if (label) labels.push(`<text x="${rect.x + 5}" y="${rect.y + 15}">${escapeHtml(label)}</text>`);
    const size = fitText(formatBytes(rect.size), rect.width, 11);
    if (label && size && rect.height >= 34)
      labels.push(`<text class="size" x="${rect.x + 5}" y="${rect.y + 29}">${escapeHtml(size)}</text>`);
  }
  return `<g>${title}<rect ${box}/>${labels.join("")}</g>`;
}

function treemapSvg(report: SizeReport): string {
  const rects = treemapLayout(report, { width: TREEMAP_WIDTH, height: TREEMAP_HEIGHT });
  // Packages first, so their directories are drawn over them.
  const body = [...rects]
    .sort((a, b) => a.depth - b.depth)
    .map((rect) => svgRect(rect, report.totalSize))
    .join("\n");
  return `<svg class="treemap" viewBox="0 0 ${TREEMAP_WIDTH} ${TREEMAP_HEIGHT}" width="${TREEMAP_WIDTH}" height="${TREEMAP_HEIGHT}" role="img" aria-label="treemap of the environment by package and top-level directory">\n${body}\n</svg>`;
}

const bar = (part: number, whole: number, color = "#4e79a7") =>
  `<span class="bar"><span style="width:${whole > 0 ? ((100 * part) / whole).toFixed(2) : 0}%;background:${color}"></span></span>`;

function packagesTable(report: SizeReport): string {
  const rows = report.packages.map((p: PackageSize, index) => {
    const color = packageColors(index, p.name === null).header;
    const directories = p.directories
      .slice(0, 4)
      .map((d) => `${escapeHtml(d.name)} <span class="muted">${formatBytes(d.size)}</span>`)
      .join(", ");
    const more =
      p.directories.length > 4 ? `, <span class="muted">+${p.directories.length - 4} more</span>` : "";
    return `<tr><td><span class="swatch" style="background:${color}"></span>${escapeHtml(packageLabel(p.name))}</td><td class="num">${formatBytes(p.size)}</td><td class="share">${bar(p.size, report.totalSize, color)}${formatShare(p.size, report.totalSize)}</td><td class="num">${p.files.toLocaleString("en")}</td><td class="dirs">${directories}${more}</td></tr>`;
  });
  return `<table><thead><tr><th>package</th><th class="num">size</th><th>share</th><th class="num">files</th><th>largest top-level entries</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function largestTable(report: SizeReport): string {
  if (report.largestFiles.length === 0) return `<p class="muted">No files.</p>`;
  const rows = report.largestFiles.map(
    (file) =>
      `<tr><td class="path">${escapeHtml(file.path)}</td><td>${escapeHtml(packageLabel(file.package))}</td><td class="num">${formatBytes(file.size)}</td></tr>`,
  );
  return `<table><thead><tr><th>file</th><th>package</th><th class="num">size</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** A duplicate set's places: a license file may be in hundreds; the first few say enough. */
const pathList = (paths: readonly string[], shown = 6) =>
  paths.length <= shown
    ? paths.map(escapeHtml).join("<br>")
    : `${paths
        .slice(0, shown - 1)
        .map(escapeHtml)
        .join("<br>")}<br><span class="muted">and ${paths.length - shown + 1} more</span>`;

function duplicatesTable(report: SizeReport): string {
  if (report.duplicates.length === 0)
    return `<p class="muted">No file is stored twice with the same content.</p>`;
  const rows = report.duplicates.map(
    (duplicate) =>
      `<tr><td class="path">${pathList(duplicate.paths)}</td><td class="num">${duplicate.paths.length} × ${formatBytes(duplicate.size)}</td><td class="num">${formatBytes(duplicate.savedBytes)}</td><td class="hash" title="sha256 ${escapeHtml(duplicate.sha256)}">${escapeHtml(duplicate.sha256.slice(0, 12))}</td></tr>`,
  );
  return `<table><thead><tr><th>same content at</th><th class="num">copies</th><th class="num">one copy would save</th><th>sha256</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function excludesTable(report: SizeReport): string {
  const rows = report.excludeSavings.map(
    (saving) =>
      `<tr${saving.label === "all of the above" ? ' class="total"' : ""}><td>${escapeHtml(saving.label)}</td><td>${saving.patterns.map((pattern) => `<code>--exclude '${escapeHtml(pattern)}'</code>`).join(" ")}</td><td class="num">${saving.files.toLocaleString("en")}</td><td class="num">${formatBytes(saving.bytes)}</td><td class="share">${bar(saving.bytes, report.totalSize, "#59a14f")}${formatShare(saving.bytes, report.totalSize)}</td><td class="muted">${escapeHtml(saving.caveat)}</td></tr>`,
  );
  return `<table><thead><tr><th>leave out</th><th>patterns</th><th class="num">files</th><th class="num">saves</th><th>share</th><th>caveat</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

const STYLE = `
:root{color-scheme:light;--ink:#1f2328;--muted:#656d76;--line:#d8dee4;--paper:#fff;--band:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;background:var(--band);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1260px;margin:0 auto;padding:24px 30px 40px}
h1{font-size:22px;margin:0 0 2px}
h2{font-size:16px;margin:28px 0 8px}
.source{color:var(--muted);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0 18px}
.card{background:var(--paper);border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:150px}
.card b{display:block;font-size:20px}
.card span{color:var(--muted);font-size:12.5px}
section{background:var(--paper);border:1px solid var(--line);border-radius:8px;padding:4px 16px 12px;margin-top:16px}
.treemap{display:block;width:100%;height:auto;font-size:12px}
.treemap rect{stroke:#fff;stroke-width:1}
.treemap text{fill:#1f2328;pointer-events:none}
.treemap text.head{fill:#fff;font-weight:600;font-size:13px}
.treemap text.head.dark{fill:#1f2328}
.treemap text.size{fill:#3d444d;font-size:11px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 10px 5px 0;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600}
.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.share{white-space:nowrap;font-variant-numeric:tabular-nums;color:var(--muted)}
.bar{display:inline-block;width:90px;height:8px;background:#eaeef2;border-radius:4px;margin-right:8px;overflow:hidden}
.bar span{display:block;height:100%}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:8px}
.path,.hash,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
code{background:var(--band);border-radius:4px;padding:1px 5px;white-space:nowrap}
.dirs{font-size:12.5px}
.muted{color:var(--muted)}
tr.total td{font-weight:600}
footer{color:var(--muted);font-size:12px;margin-top:20px}
`;

/**
 * The report as one self-contained page: inline CSS and SVG, no script, no font or image to fetch, so it opens
 * from `file://` and from a mail attachment alike.
 */
export function renderHtml(report: SizeReport, options: HtmlOptions = {}): string {
  const title = options.title ?? "Size report";
  const all = report.excludeSavings.at(-1);
  const owned = report.packages.filter((p) => p.name !== null).length;
  const cards = [
    [formatBytes(report.totalSize), `in ${formatCount(report.files, "file")}`],
    [String(owned), owned === 1 ? "package" : "packages"],
    [formatBytes(report.duplicateBytes), "in duplicated files"],
    ...(all ? [[formatBytes(all.bytes), "saved by the common excludes"]] : []),
  ];
  // Source names may be URIs: no password is ever written into a file someone will share.
  const source = escapeHtml(redactUrlCredentials(report.source));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)} — ${source}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<div class="source">${source}</div>
<div class="cards">${cards.map(([value, what]) => `<div class="card"><b>${value}</b><span>${what}</span></div>`).join("")}</div>
<section><h2>Where the bytes go</h2>
${treemapSvg(report)}
</section>
<section><h2>Packages</h2>${packagesTable(report)}</section>
<section><h2>Largest files</h2>${largestTable(report)}</section>
<section><h2>Duplicated files</h2>${duplicatesTable(report)}</section>
<section><h2>What common excludes would save</h2>${excludesTable(report)}</section>
<footer>Sizes are uncompressed bytes (kB = 1000 bytes). Patterns are those <code>cluster-pack pack --exclude</code> takes.</footer>
</main>
</body>
</html>
`;
}
