// `info --tree`, `info --html` and `report`: where an environment's or an archive's megabytes go, from the command
// line, on a venv built from wheels made here (and an archive of it in a local directory and in S3).

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { createSizedVenv, type Venv } from "@cluster-pack/testkit";
import type { SizeReport } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectOneError, runCli } from "./cli-process.js";
import { type CliS3, startCliS3 } from "./cli-s3.js";

let root: string;
let venv: Venv;
let pex: string;
let s3: CliS3;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-size-"));
  [venv, s3] = await Promise.all([createSizedVenv(root), startCliS3()]);
  pex = join(root, "env.pex");
  const packed = await runCli(["pack", "--python", venv.python, "--output", pex, "--quiet"]);
  expect(packed.stderr).toBe("");
  await s3.client.send(
    new PutObjectCommand({ Bucket: "team", Key: "envs/env.pex", Body: await readFile(pex) }),
  );
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

describe("info", () => {
  it("--tree prints the packages with their directories and bars", async () => {
    const { code, stdout, stderr } = await runCli(["info", "--python", venv.python, "--tree"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    const big = lines.findIndex((line) => /^bigdatapackage +\d+\.\d MB +\d+\.\d% █+/.test(line));
    expect(big).toBeGreaterThan(0);
    expect(lines[big + 1]).toMatch(/^ {2}bigdatapackage\/ +\d/);
    expect(stdout).toMatch(/static libraries: +250\.0 kB --exclude '\*\.a'/);
    expect(stdout).not.toContain("largest packages:");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });

  it("--html writes a self-contained page and says where", async () => {
    const page = join(root, "pages", "info.html");
    const { code, stdout } = await runCli(["info", "--python", venv.python, "--html", page]);
    expect(code).toBe(0);
    expect(stdout).toContain(`size report written to ${page}`);
    const html = await readFile(page, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg class="treemap"');
    expect(html).toContain("bigdatapackage");
    expect(await readdir(join(root, "pages"))).toEqual(["info.html"]);
  });

  it("--json with --tree carries the size report", async () => {
    const { code, stdout } = await runCli(["info", "--python", venv.python, "--tree", "--json"]);
    expect(code).toBe(0);
    const { sizeReport } = JSON.parse(stdout) as { sizeReport: SizeReport };
    expect(sizeReport.packages[0]?.name).toBe("bigdatapackage");
  });
});

describe("report", () => {
  it("prints the tree of a packed archive by default", async () => {
    const { code, stdout, stderr } = await runCli(["report", pex]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^bigdatapackage +\d+\.\d MB/m);
    expect(stdout).toMatch(/duplicated files: 150\.\d kB \(largest: 2 × bigdatapackage\/data\/shared\.bin\)/);
  });

  it("reads an archive in S3, writes the page and gives the report as JSON", async () => {
    const page = join(root, "s3-report.html");
    const { code, stdout, stderr } = await runCli(
      ["report", "s3://team/envs/env.pex", "--html", page, "--json"],
      { env: s3.env() },
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as SizeReport & { html: string };
    expect(report.html).toBe(page);
    expect(report.source).toBe("s3://team/envs/env.pex");
    expect(report.packages.map((p) => p.name)).toEqual(["bigdatapackage", "midpkg", "smallpkg"]);
    expect(await readFile(page, "utf8")).toContain("s3://team/envs/env.pex");
  });

  it("refuses a missing archive in one line", async () => {
    const missing = join(root, "nowhere.pex");
    const { code, stdout, stderr } = await runCli(["report", missing]);
    expect(code).not.toBe(0);
    expect(stdout).toBe("");
    expectOneError(
      stderr,
      new RegExp(`${missing.replaceAll(".", "\\.")}.*(not found|does not exist|no such)`, "i"),
    );
  });

  it("refuses a file that is not an archive it knows, in one line", async () => {
    const { code, stderr } = await runCli(["report", join(root, "notes.txt")]);
    expect(code).toBe(2);
    expectOneError(stderr, /must end in/);
  });

  it("refuses an --html path it cannot write, in one line and leaving no page behind", async () => {
    // A file where a directory should be: unwritable even for root, which ignores permission bits.
    const blocker = join(root, "blocker");
    await writeFile(blocker, "a file, not a directory");
    const { code, stdout, stderr } = await runCli(["report", pex, "--html", join(blocker, "r.html")]);
    expect(code).not.toBe(0);
    expect(stdout).toBe("");
    expectOneError(stderr, /blocker/);
    expect(await readFile(blocker, "utf8")).toBe("a file, not a directory");
  });
});
