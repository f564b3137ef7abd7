// One row of the upload benchmark in a fresh process, so that its peak memory, CPU time and temporary files are
// its own: node upload-child.mjs <job.json>  →  prints {wallS, cpuS, maxRssMB, phases, result} as JSON.
// job.action: "pack" (packEnv to job.output), "upload" (uploadZip of job.file), "pack-then-upload" (packEnv into
// TMPDIR, then uploadZip of that file: the old uploadEnv), "streamed" (uploadEnv, whatever it does inside).
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packEnv, uploadEnv, uploadZip } from "cluster-pack";

const job = JSON.parse(await readFile(process.argv[2], "utf8"));
const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;

// When each phase was first reported, and when the last event came: shows whether packing and uploading overlap.
const phases = {};
const onProgress = (event) => {
  const now = seconds();
  if (!phases[event.phase]) phases[event.phase] = { firstS: now, lastS: now };
  phases[event.phase].lastS = now;
};
const upload = (file) =>
  uploadZip(file, job.uri, { fsArgs: job.fsArgs, forceUpload: true, onProgress }).then((uploaded) => ({
    size: uploaded.metadata.size,
    sha256: uploaded.metadata.sha256,
  }));
const pack = (output) =>
  packEnv({ python: job.python, output, packer: "pex", onProgress }).then((packed) => ({
    size: packed.size,
    sha256: packed.sha256,
  }));

let result;
if (job.action === "pack") result = await pack(job.output);
else if (job.action === "upload") result = await upload(job.file);
else if (job.action === "pack-then-upload") {
  // Where the old uploadEnv put its archive: a temporary file, removed once uploaded.
  const local = join(tmpdir(), "env.pex");
  await pack(local);
  result = await upload(local);
  await rm(local, { force: true });
} else if (job.action === "streamed") {
  const uploaded = await uploadEnv({
    python: job.python,
    packagePath: job.uri,
    fsArgs: job.fsArgs,
    forceUpload: true,
    onProgress,
  });
  result = { size: uploaded.metadata.size, sha256: uploaded.metadata.sha256 };
} else throw new Error(`unknown action ${job.action}`);

const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${JSON.stringify({
    wallS: seconds(),
    cpuS: (cpu.user + cpu.system) / 1e6,
    // resourceUsage().maxRSS is in kilobytes.
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    phases,
    result,
  })}\n`,
);
