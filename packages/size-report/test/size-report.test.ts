import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import {
  createSizedVenv,
  type InstalledFile,
  installedFiles,
  SHARED_CONTENT,
  type Venv,
} from "@cluster-pack/testkit";
import { chromium } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildSizeReport,
  renderHtml,
  renderTree,
  type SizeReport,
  TREEMAP_HEIGHT,
  TREEMAP_WIDTH,
  treemapLayout,
} from "../src/index.js";

const execFileAsync = promisify(execFile);

let root: string;
let venv: Venv;
let files: InstalledFile[];
let report: SizeReport;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-size-report-"));
  venv = await createSizedVenv(root);
  files = await installedFiles(venv);
  report = buildSizeReport(files, { source: venv.prefix });
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Bytes of every file under a directory, walked on disk. */
async function bytesUnder(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    total += entry.isDirectory() ? await bytesUnder(path) : (await stat(path)).size;
  }
  return total;
}

const sumOf = (selected: readonly InstalledFile[]) => selected.reduce((sum, file) => sum + file.size, 0);

describe("the size model", () => {
  it("gives each package the bytes its files take on disk, split by top-level directory", async () => {
    const big = report.packages.find((p) => p.name === "bigdatapackage");
    const code = await bytesUnder(join(venv.sitePackages, "bigdatapackage"));
    const metadata = await bytesUnder(join(venv.sitePackages, "bigdatapackage-1.0.dist-info"));
    expect(big?.size).toBe(code + metadata);
    expect(big?.directories.map((d) => [d.name, d.size])).toEqual([
      ["bigdatapackage/", code],
      ["bigdatapackage-1.0.dist-info/", metadata],
    ]);
    expect(report.packages.map((p) => p.name)).toEqual(["bigdatapackage", "midpkg", "smallpkg"]);
    expect(report.totalSize).toBe(report.packages.reduce((sum, p) => sum + p.size, 0));
    expect(report.largestFiles[0]).toMatchObject({
      path: "bigdatapackage/data/table0.bin",
      size: 1_500_000,
      package: "bigdatapackage",
    });
  });

  it("finds a file installed twice and what one copy would save", () => {
    const shared = report.duplicates[0];
    expect(shared?.paths).toEqual(["bigdatapackage/data/shared.bin", "smallpkg/shared.bin"]);
    expect(shared?.size).toBe(Buffer.byteLength(SHARED_CONTENT));
    expect(shared?.savedBytes).toBe(Buffer.byteLength(SHARED_CONTENT));
    expect(report.duplicateBytes).toBeGreaterThanOrEqual(shared?.savedBytes ?? Number.NaN);
  });

  it("prices the common excludes with the files they really match", () => {
    const saving = (label: string) => report.excludeSavings.find((s) => s.label === label);
    const tests = files.filter((f) => /^[^/]+\/tests?\//.test(f.path));
    expect(saving("test suites")).toMatchObject({ files: tests.length, bytes: sumOf(tests) });
    expect(saving("test suites")?.files).toBeGreaterThanOrEqual(4);
    expect(saving("static libraries")).toMatchObject({ files: 1, bytes: 250_000 });
    expect(saving("documentation")).toMatchObject({ files: 1, bytes: 60_000 });
    const bytecode = files.filter((f) => f.path.includes("/__pycache__/"));
    expect(saving("bytecode caches")).toMatchObject({ files: bytecode.length, bytes: sumOf(bytecode) });
    // Test suites' bytecode is in both rows: the union counts it once.
    const union = files.filter(
      (f) => tests.includes(f) || bytecode.includes(f) || /\.a$|\/docs\//.test(f.path),
    );
    expect(saving("all of the above")).toMatchObject({ files: union.length, bytes: sumOf(union) });
  });
});

describe("the terminal tree", () => {
  it("lists packages largest first with their directories, within the width", () => {
    const tree = renderTree(report, { width: 64 });
    const lines = tree.split("\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(64);
    const big = lines.findIndex((line) => line.startsWith("bigdatapackage "));
    expect(big).toBeGreaterThan(0);
    expect(lines[big + 1]).toMatch(/^ {2}bigdatapackage\/ +\d/);
    expect(big).toBeLessThan(lines.findIndex((line) => line.startsWith("midpkg ")));
    expect(lines[big]).toMatch(/█+░*$/);
    expect(tree).toMatch(/static libraries: +250\.0 kB --exclude '\*\.a'/);
  });

  it("shows control characters of file names instead of obeying them", () => {
    const crafted = buildSizeReport(
      [{ path: "evil\u001b[2J/x.py", size: 10, package: "evil\u001b]0;pwned\u0007" }],
      { source: "x" },
    );
    const tree = renderTree(crafted);
    expect(tree).not.toContain("\u001b");
    expect(tree).toContain("evil\\x1b[2J/");
  });
});

describe("the HTML page", () => {
  it("escapes markup in file names and needs nothing from a network", () => {
    const crafted = buildSizeReport(
      [
        { path: "<script>alert(1)</script>/x.py", size: 10, package: '"><img src=x onerror=alert(1)>' },
        { path: "ok/y.py", size: 5, package: "ok" },
      ],
      { source: "s3://user:secret@bucket/env.pex" },
    );
    const html = renderHtml(crafted);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;/");
    expect(html).not.toContain("secret");
    // Nothing to fetch: no source, link, import or url() anywhere in a real report's page.
    expect(renderHtml(report)).not.toMatch(/\b(src|href)=|@import|url\(/i);
  });

  it("renders in headless Chromium: the treemap's rectangles and the largest package's name", async () => {
    const page = join(root, "report.html");
    await writeFile(page, renderHtml(report));
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      timeout: 30_000,
    });
    try {
      const context = await browser.newContext({
        viewport: { width: 1320, height: 900 },
        deviceScaleFactor: 2,
      });
      const tab = await context.newPage();
      const url = pathToFileURL(page).href;
      const requests: string[] = [];
      tab.on("request", (request) => {
        if (request.url() !== url) requests.push(request.url());
      });
      await tab.goto(url, { waitUntil: "load", timeout: 15_000 });
      const treemap = tab.locator("svg.treemap");
      const shot = PNG.sync.read(await treemap.screenshot({ timeout: 15_000 }));
      const shotPath = join(root, "treemap.png");
      await writeFile(shotPath, PNG.sync.write(shot));
      expect(requests).toEqual([]);
      // The tables are there too, as text a reader can copy.
      // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator; the text as rendered is the point.
      const text = (await tab.locator("main").innerText({ timeout: 5_000 })).replace(/\s+/g, " ");
      expect(text).toContain("bigdatapackage/data/table0.bin bigdatapackage 1.5 MB");
      expect(text).toMatch(/bigdatapackage\/data\/shared\.bin smallpkg\/shared\.bin 2 × 150\.0 kB 150\.0 kB/);
      expect(text).toContain("static libraries --exclude '*.a' 1 250.0 kB");

      // The biggest directory rectangles, sampled at their centres in the screenshot's pixels.
      const scaleX = shot.width / TREEMAP_WIDTH;
      const scaleY = shot.height / TREEMAP_HEIGHT;
      const biggest = treemapLayout(report, { width: TREEMAP_WIDTH, height: TREEMAP_HEIGHT })
        .filter((rect) => rect.depth === 2 && rect.width >= 40 && rect.height >= 70)
        .sort((a, b) => b.width * b.height - a.width * a.height)
        .slice(0, 4);
      expect(new Set(biggest.map((rect) => rect.packageName)).size).toBeGreaterThanOrEqual(2);
      const fillOf = new Map<string | null, string>();
      for (const rect of biggest) {
        const x = Math.round((rect.x + rect.width / 2) * scaleX);
        // Below the centre: the labels sit at the top of a rectangle.
        const y = Math.round((rect.y + rect.height * 0.75) * scaleY);
        const at = (y * shot.width + x) * 4;
        const pixel = [shot.data[at], shot.data[at + 1], shot.data[at + 2]];
        const expected = [1, 3, 5].map((i) => Number.parseInt(rect.fill.slice(i, i + 2), 16));
        for (const [i, channel] of pixel.entries())
          expect(
            Math.abs((channel ?? -99) - (expected[i] ?? 0)),
            `${rect.directory} at ${x},${y}`,
          ).toBeLessThanOrEqual(3);
        fillOf.set(rect.packageName, rect.fill);
      }
      expect(new Set(fillOf.values()).size).toBe(fillOf.size);

      const { stdout } = await execFileAsync("tesseract", [shotPath, "-"], { timeout: 30_000 });
      expect(stdout).toContain("bigdatapackage");
    } finally {
      await browser.close();
    }
  }, 60_000);
});
