import { hierarchy, treemap, treemapSquarify } from "d3-hierarchy";
import type { SizeReport } from "./size-report.js";

/** One rectangle of the treemap, in the SVG's own pixels. */
export interface TreemapRect {
  /** 1: a package (its header strip shows); 2: a top-level directory or file of it. */
  depth: 1 | 2;
  x: number;
  y: number;
  width: number;
  height: number;
  /** `#rrggbb`. */
  fill: string;
  /** The package's name (null: files no package owns). */
  packageName: string | null;
  /** For depth 2, the directory or file. */
  directory?: string;
  size: number;
}

export interface TreemapOptions {
  width: number;
  height: number;
}

/** Height of a package's header strip, where its name is written. */
export const HEADER_HEIGHT = 20;

// Ten hues far enough apart to tell neighbours apart (Tableau 10 order); packages beyond ten reuse them, in a
// different place. Files no package owns are grey.
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#86bcb6",
];
const UNOWNED = "#8c8c8c";

const mix = (hex: string, toward: number, amount: number) => {
  const channel = (at: number) => {
    const value = Number.parseInt(hex.slice(at, at + 2), 16);
    return Math.round(value + (toward - value) * amount)
      .toString(16)
      .padStart(2, "0");
  };
  return `#${channel(1)}${channel(3)}${channel(5)}`;
};

/** A package's colours: the header strip darker, its directories lighter. */
export function packageColors(index: number, unowned: boolean): { header: string; body: string } {
  const base = unowned ? UNOWNED : (PALETTE[index % PALETTE.length] ?? UNOWNED);
  return { header: mix(base, 0, 0.15), body: mix(base, 255, 0.3) };
}

interface Node {
  name: string;
  size?: number;
  packageIndex?: number;
  children?: Node[];
}

/**
 * The squarified treemap of a report: packages, then their top-level directories, areas proportional to bytes.
 * Computed here (not in the browser) so the page needs no script and a test knows where each rectangle is.
 */
export function treemapLayout(report: SizeReport, options: TreemapOptions): TreemapRect[] {
  const root: Node = {
    name: "",
    children: report.packages
      .map((p, packageIndex) => ({
        name: p.name ?? "",
        packageIndex,
        children: p.directories.filter((d) => d.size > 0).map((d) => ({ name: d.name, size: d.size })),
      }))
      .filter((node) => node.children.length > 0),
  };
  const nodes = hierarchy(root)
    .sum((node) => node.size ?? 0)
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
  const laidOut = treemap<Node>()
    .tile(treemapSquarify)
    .size([options.width, options.height])
    .paddingOuter(2)
    .paddingTop((node) => (node.depth === 1 ? HEADER_HEIGHT : 2))
    .paddingInner(2)
    .round(true)(nodes);
  const rects: TreemapRect[] = [];
  for (const node of laidOut.descendants()) {
    if (node.depth === 0) continue;
    const packageNode = node.depth === 1 ? node : node.parent;
    const index = packageNode?.data.packageIndex ?? 0;
    const packageSize = report.packages[index];
    const colors = packageColors(index, packageSize?.name === null);
    rects.push({
      depth: node.depth === 1 ? 1 : 2,
      x: node.x0,
      y: node.y0,
      width: node.x1 - node.x0,
      height: node.y1 - node.y0,
      fill: node.depth === 1 ? colors.header : colors.body,
      packageName: packageSize?.name ?? null,
      ...(node.depth === 2 && { directory: node.data.name }),
      size: node.value ?? 0,
    });
  }
  return rects;
}
