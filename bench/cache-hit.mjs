#!/usr/bin/env node
// What a user pays on every job when nothing changed: `uploadEnv` of an unchanged venv into a store that already
// holds its archive. The target: well under a second of our own time. Usage: node bench/cache-hit.mjs [runs]
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uploadEnv } from "cluster-pack";

const runs = Number(process.argv[2] ?? 7);
const work = await mkdtemp(join(tmpdir(), "cp-bench-cache-"));
try {
  execFileSync("python3", ["-m", "venv", join(work, "venv")]);
  const options = {
    python: join(work, "venv", "bin", "python"),
    packagePath: join(work, "store", "env.pex"),
  };

  const first = performance.now();
  const packed = await uploadEnv(options);
  const firstMs = performance.now() - first;
  if (!packed.uploaded) throw new Error("the first upload should pack and upload");

  const timings = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const result = await uploadEnv(options);
    timings.push(performance.now() - started);
    if (result.uploaded) throw new Error("an unchanged environment was uploaded again");
  }
  timings.sort((a, b) => a - b);
  const median = timings[Math.floor(timings.length / 2)];
  const lines = [
    "| step | ms |",
    "|---|--:|",
    `| first upload (inspect, pack, upload) | ${firstMs.toFixed(0)} |`,
    `| cache hit, median of ${runs} | ${median.toFixed(0)} |`,
    `| cache hit, fastest | ${timings[0].toFixed(0)} |`,
    "",
    `target: a cache hit well under 1000 ms — ${median < 1000 ? "PASS" : "FAIL"} (load ${(await import("node:os")).loadavg()[0].toFixed(2)})`,
  ];
  console.log(lines.join("\n"));
  await writeFile(
    new URL("results/cache-hit.json", import.meta.url),
    `${JSON.stringify({ firstMs, cacheHitMs: timings, medianMs: median }, null, 2)}\n`,
  );
  await writeFile(new URL("results/cache-hit.md", import.meta.url), `${lines.join("\n")}\n`);
} finally {
  await rm(work, { recursive: true, force: true });
}
