// The upload benchmark: on synthetic venvs, packing alone, uploading a finished archive alone, the two one after
// the other (the old uploadEnv), and uploadEnv itself, to s3rver and to the WebHDFS test server; boto3's
// upload_file as the S3 reference. `node upload.mjs --help` lists the options; bench/README.md explains the rows.

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { s3Environment, s3StorageOptions, startS3rver, startWebHdfsServer } from "@cluster-pack/testkit";
import { removeEnv } from "cluster-pack";
import { runOrThrow, timed } from "./lib/measure.mjs";
import { scalePoints } from "./lib/scale-points.mjs";
import { watchDirectory } from "./lib/temp-disk.mjs";
import { renderUpload, uploadTargets } from "./lib/upload-report.mjs";
import { generateSynthetic } from "./synthetic.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values: options } = parseArgs({
  options: {
    scale: { type: "string", default: "default" },
    stores: { type: "string", default: "s3,hdfs" },
    work: { type: "string", default: "/tmp/cluster-pack-upload-bench" },
    "interval-ms": { type: "string", default: "50" },
    runs: { type: "string", default: "1" },
    results: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (options.help) {
  process.stdout.write(`node upload.mjs [--scale default|all|FILES:MB,...] [--stores s3,hdfs]
  --scale default    synthetic venvs 1000:100,10000:400 (files:MB); all adds 50000:1000 and 200000:5000
  --stores s3,hdfs   which test stores to upload to (s3rver, the WebHDFS test server)
  --work DIR         scratch directory (default /tmp/cluster-pack-upload-bench), emptied per point
  --interval-ms 50   how often each row's TMPDIR is measured
  --runs 1           runs per row; the run of median wall time is reported, every wall time is in the JSON
  --results DIR      where upload.md and upload.json go (default bench/results)
`);
  process.exit(0);
}
const log = (line) => process.stderr.write(`bench: ${line}\n`);
const MB = 1e6;
const PYTHON = "/usr/bin/python3";
const intervalMs = Number(options["interval-ms"]);
const runs = Number(options.runs);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs: "${options.runs}" is not a positive integer`);

// `aws s3 cp` is boto3's upload_file with the default TransferConfig (8 MiB parts, 10 threads); the endpoint is
// passed explicitly because Debian 12's boto3 (1.26) predates AWS_ENDPOINT_URL_S3.
const BOTO3_SCRIPT = `
import sys, boto3
from botocore.config import Config
path, endpoint, region, bucket, key = sys.argv[1:6]
client = boto3.client("s3", endpoint_url=endpoint, region_name=region, config=Config(s3={"addressing_style": "path"}))
client.upload_file(path, bucket, key)
`;

/** The stores every row uploads to, each started fresh per point (their data goes away with them). */
const storeStarters = {
  async s3() {
    const s3 = await startS3rver({ buckets: ["bench"] });
    return {
      id: "s3",
      name: "S3 (s3rver)",
      uri: (key) => `s3://bench/envs/${key}.pex`,
      fsArgs: s3StorageOptions(s3),
      s3,
      stop: () => s3.stop(),
    };
  },
  async hdfs() {
    const hdfs = await startWebHdfsServer({
      directories: [{ path: "/user/bob", owner: "bob", permission: 0o755 }],
    });
    const host = new URL(hdfs.namenodeUrl).host;
    return {
      id: "hdfs",
      name: "HDFS (WebHDFS test server)",
      uri: (key) => `webhdfs://${host}/user/bob/envs/${key}.pex`,
      fsArgs: { hdfs: { user: "bob" } },
      stop: () => hdfs.stop(),
    };
  },
};

/** A real venv whose site-packages holds the synthetic distributions (dist-info with RECORD), as pip leaves it. */
async function syntheticVenv(point, directory) {
  const venv = join(directory, "venv");
  log(`synthetic venv: generating ${point.files} files, ${point.mb} MB`);
  const generated = await generateSynthetic({ files: point.files, bytes: point.mb * MB, out: venv });
  // synthetic.mjs lays out lib/python3.11/site-packages; venv adds bin/, pyvenv.cfg and lib64 around it.
  await runOrThrow(PYTHON, ["-m", "venv", "--without-pip", venv]);
  const python = join(venv, "bin", "python");
  const { stdout } = await runOrThrow(python, [
    "-c",
    "import sysconfig; print(sysconfig.get_paths()['purelib'])",
  ]);
  if (stdout.trim() !== generated.sitePackages)
    throw new Error(
      `the venv's site-packages is ${stdout.trim()}, the synthetic tree ${generated.sitePackages}`,
    );
  return { python, venv, files: generated.files, bytes: generated.bytes };
}

/**
 * One row in a fresh process under GNU time, with TMPDIR a fresh directory whose size is sampled while it runs.
 * A failed row is recorded with its error, and the others still run.
 */
async function measureOnce(row, directory, command, args, env) {
  const temp = join(directory, `tmp-${row.id}`);
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  const watcher = watchDirectory(temp, intervalMs);
  let measured;
  let error;
  try {
    measured = await timed(command, args, { env: { ...process.env, ...env, TMPDIR: temp } });
  } catch (caught) {
    error = String(caught.message).split("\n").slice(-3).join(" ").slice(0, 500);
  }
  const disk = await watcher.stop();
  await rm(temp, { recursive: true, force: true });
  const inner = measured?.stdout.trim() ? JSON.parse(measured.stdout) : undefined;
  const result = {
    ...row,
    ...(measured && { wallS: measured.wallS, cpuS: measured.cpuS, maxRssMB: measured.maxRssMB }),
    peakTempMiB: disk.peakBytes / 2 ** 20,
    tempSamples: disk.samples,
    leftTempBytes: disk.leftBytes,
    ...(inner && {
      inProcess: { wallS: inner.wallS, cpuS: inner.cpuS, maxRssMB: inner.maxRssMB },
      phases: inner.phases,
      archiveBytes: inner.result.size,
    }),
    ...(error && { error }),
  };
  log(
    error
      ? `  ${row.label}: FAILED ${error}`
      : `  ${row.label}: ${result.wallS.toFixed(2)} s, ${result.maxRssMB.toFixed(0)} MB RSS, peak temp ${result.peakTempMiB.toFixed(1)} MiB`,
  );
  return result;
}

/** `--runs` runs of a row; the one of median wall time stands for the row (its CPU, RSS and temp disk too). */
async function measureRow(row, directory, command, args, env = {}) {
  const measured = [];
  for (let run = 0; run < runs; run++) {
    const once = await measureOnce(row, directory, command, args, env);
    if (once.error) return once;
    measured.push(once);
  }
  if (runs === 1) return measured[0];
  const sorted = [...measured].sort((a, b) => a.wallS - b.wallS);
  return { ...sorted[Math.floor((runs - 1) / 2)], wallsS: measured.map((once) => once.wallS) };
}

async function childRow(row, directory, job) {
  const jobFile = join(directory, `job-${row.id}.json`);
  await writeFile(jobFile, JSON.stringify(job));
  return measureRow(row, directory, process.execPath, [join(here, "upload-child.mjs"), jobFile]);
}

async function benchPoint(point) {
  const directory = join(options.work, `synthetic-${point.files}-${point.mb}`);
  await rm(directory, { recursive: true, force: true });
  await mkdir(directory, { recursive: true });
  const env = await syntheticVenv(point, directory);
  // Warm the page cache, so that the first row does not pay for the disk on behalf of the others.
  await runOrThrow("bash", ["-c", `tar cf - -C '${env.venv}' . | cat > /dev/null`]);
  const archive = join(directory, "out", "env.pex");
  const rows = [];
  rows.push(
    await childRow(
      { id: "pack", kind: "pack", store: null, label: "pack alone (packEnv → local file)" },
      directory,
      {
        action: "pack",
        python: env.python,
        output: archive,
      },
    ),
  );
  const archiveBytes = rows[0].archiveBytes;
  if (archiveBytes === undefined) throw new Error(`packing failed: ${rows[0].error}`);

  for (const storeId of options.stores.split(",").filter(Boolean)) {
    const start = storeStarters[storeId];
    if (!start) throw new Error(`--stores: unknown store "${storeId}" (s3, hdfs)`);
    const store = await start();
    try {
      const common = { fsArgs: store.fsArgs, python: env.python };
      const storeRow = async (kind, label, measure) => {
        const uri = store.uri(kind);
        const row = await measure(
          { id: `${store.id}-${kind}`, kind, store: store.id, label: `${store.name}: ${label}` },
          uri,
        );
        rows.push(row);
        // The store's copy is not needed any more: at 5 GB, four archives per store would fill a small disk.
        await removeEnv(uri, { fsArgs: store.fsArgs }).catch((error) =>
          log(`  could not remove ${uri}: ${String(error.message).split("\n")[0]}`),
        );
      };
      await storeRow("upload", "upload alone (uploadZip)", (row, uri) =>
        childRow(row, directory, { ...common, action: "upload", file: archive, uri }),
      );
      await storeRow("write-then-upload", "write-then-upload (packEnv, then uploadZip)", (row, uri) =>
        childRow(row, directory, { ...common, action: "pack-then-upload", uri }),
      );
      await storeRow("streamed", "streamed (uploadEnv)", (row, uri) =>
        childRow(row, directory, { ...common, action: "streamed", uri }),
      );
      if (store.s3) {
        const key = "envs/boto3.pex";
        const row = await measureRow(
          {
            id: "s3-boto3",
            kind: "boto3",
            store: "s3",
            label: `${store.name}: boto3 upload_file (aws s3 cp)`,
          },
          directory,
          PYTHON,
          ["-c", BOTO3_SCRIPT, archive, store.s3.endpoint, store.s3.region, "bench", key],
          s3Environment(store.s3),
        );
        rows.push({ ...row, ...(!row.error && { archiveBytes }) });
      }
    } finally {
      await store.stop();
    }
  }
  await rm(directory, { recursive: true, force: true });
  for (const row of rows) {
    if (row.wallS === undefined) continue;
    // MB/s of what the row moves: the environment for rows that pack, the archive for every row.
    if (!["upload", "boto3"].includes(row.kind)) row.envMBs = env.bytes / MB / row.wallS;
    row.archiveMBs = archiveBytes / MB / row.wallS;
  }
  return { files: env.files, mb: point.mb, bytes: env.bytes, archiveBytes, rows };
}

const results = options.results ?? join(here, "results");
await mkdir(results, { recursive: true });
const loadBefore = (await readFile("/proc/loadavg", "utf8")).trim();
const points = [];
for (const point of scalePoints(options.scale)) points.push(await benchPoint(point));
const [one, five, fifteen] = loadavg();
const result = {
  command: `node bench/upload.mjs ${process.argv.slice(2).join(" ")}`.trim(),
  date: new Date().toISOString(),
  machine: {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    loadAverage: [one, five, fifteen],
    loadAverageBefore: loadBefore,
    loadAverageAfter: (await readFile("/proc/loadavg", "utf8")).trim(),
  },
  tempSampleIntervalMs: intervalMs,
  runsPerRow: runs,
  points,
};
result.targets = uploadTargets(result);
const markdown = renderUpload(result);
process.stdout.write(`${markdown}\n`);
await writeFile(join(results, "upload.md"), markdown);
await writeFile(join(results, "upload.json"), `${JSON.stringify(result, null, 2)}\n`);
