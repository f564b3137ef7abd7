// The README's picture of the size report: a real environment's report (the machine's `python3`, or $PYTHON) made
// by the built CLI, opened from file:// in Debian's headless Chromium, the top of the page saved as a PNG.
// Run from the repository root after `pnpm build`:
//   node packages/size-report/scripts/readme-screenshot.mjs [docs/images/size-report.png]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const repository = fileURLToPath(new URL("../../../", import.meta.url));
const output = resolve(process.argv[2] ?? join(repository, "docs/images/size-report.png"));
const work = mkdtempSync(join(tmpdir(), "cp-readme-shot-"));
try {
  const page = join(work, "report.html");
  execFileSync(
    process.execPath,
    [
      join(repository, "apps/cli/dist/cli.js"),
      "info",
      "--python",
      process.env.PYTHON ?? "python3",
      "--html",
      page,
      "--quiet",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-sync",
    ],
  });
  try {
    const tab = await browser.newPage({ viewport: { width: 1280, height: 940 }, deviceScaleFactor: 1 });
    await tab.goto(pathToFileURL(page).href, { waitUntil: "load" });
    await tab.screenshot({ path: output, clip: { x: 0, y: 0, width: 1280, height: 940 } });
  } finally {
    await browser.close();
  }
  console.log(`${output}: ${statSync(output).size} bytes`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
