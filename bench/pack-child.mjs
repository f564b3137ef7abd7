// One pack in a fresh process, so that its peak memory and CPU time are its own:
// node pack-child.mjs <job.json>  →  prints {wallS, cpuS, maxRssMB, result} as JSON.
import { readFile } from "node:fs/promises";
import { packZipapp } from "@cluster-pack/packers";

const job = JSON.parse(await readFile(process.argv[2], "utf8"));
const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
const result = await packZipapp({
  interpreter: job.interpreter,
  distributions: job.distributions,
  output: job.output,
  layout: job.layout,
  compressionLevel: job.level,
  // The bytecode cache is wherever XDG_CACHE_HOME points (the bench gives each such pack a fresh one).
  ...(job.compileWith && { compileWith: job.compileWith }),
});
const wallS = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
const { pexInfo: _pexInfo, ...summary } = result;
process.stdout.write(
  `${JSON.stringify({
    wallS,
    cpuS: (cpu.user + cpu.system) / 1e6,
    // resourceUsage().maxRSS is in kilobytes.
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    result: summary,
  })}\n`,
);
