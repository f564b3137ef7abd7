export type { CommonExclude } from "./common-excludes.js";
export { COMMON_EXCLUDES } from "./common-excludes.js";
export { formatBytes, formatCount, formatShare } from "./format-bytes.js";
export type { HtmlOptions } from "./render-html.js";
export { escapeHtml, renderHtml, TREEMAP_HEIGHT, TREEMAP_WIDTH } from "./render-html.js";
export type { TreeOptions } from "./render-tree.js";
export { renderTree } from "./render-tree.js";
export type {
  DirectorySize,
  DuplicateFiles,
  ExcludeSaving,
  LargestFile,
  PackageSize,
  SizeEntry,
  SizeReport,
  SizeReportOptions,
} from "./size-report.js";
export { buildSizeReport, topLevelOf } from "./size-report.js";
export type { TreemapOptions, TreemapRect } from "./treemap-layout.js";
export { HEADER_HEIGHT, packageColors, treemapLayout } from "./treemap-layout.js";
