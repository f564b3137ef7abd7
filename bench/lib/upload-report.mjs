const MB = 1e6;
const MiB = 2 ** 20;
const f2 = (n) => (n === undefined ? "–" : n.toFixed(2));
const f1 = (n) => (n === undefined ? "–" : n.toFixed(1));
const f0 = (n) => (n === undefined ? "–" : n.toFixed(0));

// The issue's thresholds. Temporary disk: two S3 parts (fs-s3's default part size, 8 MiB) plus 1 MiB for the
// small files an upload may write (editable zips, metadata).
const STREAMED_WALL_FACTOR = 1.15;
const STREAMED_RSS_LIMIT_MB = 400;
const PART_MIB = 8;
const STREAMED_TEMP_LIMIT_MIB = 2 * PART_MIB + 1;

const storeNames = { s3: "S3", hdfs: "HDFS" };
const rowOf = (point, id) => point.rows.find((row) => row.id === id);
const pointName = (point) => `${point.files} files / ${f0(point.bytes / MB)} MB`;
const storesOf = (result) => [
  ...new Set(result.points.flatMap((point) => point.rows.map((row) => row.store).filter(Boolean))),
];

/** Streamed wall time against the slower of its two halves measured alone. */
function overlapRatio(point, store) {
  const pack = rowOf(point, "pack");
  const upload = rowOf(point, `${store}-upload`);
  const streamed = rowOf(point, `${store}-streamed`);
  if (pack?.wallS === undefined || upload?.wallS === undefined || streamed?.wallS === undefined)
    return undefined;
  const slower = Math.max(pack.wallS, upload.wallS);
  return { streamed, pack, upload, slower, ratio: streamed.wallS / slower };
}

/** The issue's targets, one line each, with the numbers; SKIP when the point they concern was not run. */
export function uploadTargets(result) {
  const lines = [];
  const add = (pass, text) =>
    lines.push({ pass, line: `${pass === undefined ? "SKIP" : pass ? "PASS" : "FAIL"} ${text}` });
  const at = (files, mb) => result.points.find((p) => p.files === files && p.mb === mb);
  const gigabyte = at(50000, 1000);
  const large = at(200000, 5000);
  for (const store of storesOf(result)) {
    const name = storeNames[store] ?? store;
    const overlap = gigabyte && overlapRatio(gigabyte, store);
    if (overlap)
      add(
        overlap.ratio <= STREAMED_WALL_FACTOR,
        `${name}: streamed wall ≤ ${STREAMED_WALL_FACTOR} × max(pack alone, upload alone) at 1 GB: ${f2(overlap.streamed.wallS)} s vs max(${f2(overlap.pack.wallS)}, ${f2(overlap.upload.wallS)}) s = ${overlap.ratio.toFixed(2)}×`,
      );
    else {
      const largest = result.points.at(-1);
      const indicative = largest && overlapRatio(largest, store);
      add(
        undefined,
        `${name}: streamed wall ≤ ${STREAMED_WALL_FACTOR} × max(pack alone, upload alone) at 1 GB: the 50000:1000 point was not run (--scale all)${indicative ? `; at ${pointName(largest)}: ${f2(indicative.streamed.wallS)} s vs max(${f2(indicative.pack.wallS)}, ${f2(indicative.upload.wallS)}) s = ${indicative.ratio.toFixed(2)}×` : ""}`,
      );
    }
    const largeStreamed = large && rowOf(large, `${store}-streamed`);
    if (largeStreamed?.maxRssMB !== undefined)
      add(
        largeStreamed.maxRssMB <= STREAMED_RSS_LIMIT_MB,
        `${name}: peak RSS of streamed ≤ ${STREAMED_RSS_LIMIT_MB} MB at 5 GB / 200k files: ${f0(largeStreamed.maxRssMB)} MB`,
      );
    else {
      const largest = result.points.at(-1);
      const indicative = largest && rowOf(largest, `${store}-streamed`);
      add(
        undefined,
        `${name}: peak RSS of streamed ≤ ${STREAMED_RSS_LIMIT_MB} MB at 5 GB / 200k files: the 200000:5000 point was ${large ? "run but streamed failed" : "not run (--scale all)"}${indicative?.maxRssMB !== undefined ? `; at ${pointName(largest)}: ${f0(indicative.maxRssMB)} MB` : ""}`,
      );
    }
    // A point whose whole archive fits under the limit proves nothing about streaming: only larger ones count.
    const temps = result.points
      .filter((point) => point.archiveBytes > STREAMED_TEMP_LIMIT_MIB * MiB)
      .map((point) => ({ point, row: rowOf(point, `${store}-streamed`) }))
      .filter(({ row }) => row?.wallS !== undefined);
    if (temps.length > 0) {
      const worst = temps.reduce((a, b) => (b.row.peakTempMiB > a.row.peakTempMiB ? b : a));
      add(
        worst.row.peakTempMiB <= STREAMED_TEMP_LIMIT_MIB,
        `${name}: peak temporary disk of streamed ≤ 2 parts (2 × ${PART_MIB} MiB) + 1 MiB of small files = ${STREAMED_TEMP_LIMIT_MIB} MiB: ${temps.map(({ point, row }) => `${f1(row.peakTempMiB)} MiB at ${pointName(point)}`).join(", ")}`,
      );
    } else
      add(
        undefined,
        `${name}: peak temporary disk of streamed ≤ ${STREAMED_TEMP_LIMIT_MIB} MiB: no point with an archive over ${STREAMED_TEMP_LIMIT_MIB} MiB whose streamed row succeeded`,
      );
  }
  return lines;
}

function phaseText(phases) {
  if (!phases) return "";
  return ["inspect", "pack", "upload"]
    .filter((phase) => phases[phase])
    .map((phase) => `${phase} ${f1(phases[phase].firstS)}–${f1(phases[phase].lastS)}`)
    .join(" · ");
}

function renderPoint(point) {
  const header = [
    "| row | wall s | CPU s | peak RSS MB | peak temp MiB | env MB/s | archive MB/s | phases (s from start) |",
    "|---|--:|--:|--:|--:|--:|--:|---|",
  ];
  const lines = point.rows.map((row) =>
    row.error
      ? `| ${row.label} | failed: ${row.error.replaceAll("|", "\\|")} | | | | | | |`
      : `| ${row.label} | ${f2(row.wallS)} | ${f2(row.cpuS)} | ${f0(row.maxRssMB)} | ${f1(row.peakTempMiB)} | ${f0(row.envMBs)} | ${f0(row.archiveMBs)} | ${phaseText(row.phases)} |`,
  );
  const notes = [];
  for (const store of [...new Set(point.rows.map((row) => row.store).filter(Boolean))]) {
    const name = storeNames[store] ?? store;
    const overlap = overlapRatio(point, store);
    const before = rowOf(point, `${store}-write-then-upload`);
    if (overlap)
      notes.push(
        `${name}: streamed ${f2(overlap.streamed.wallS)} s = ${overlap.ratio.toFixed(2)}× max(pack alone, upload alone)${before?.wallS !== undefined ? `, ${(overlap.streamed.wallS / before.wallS).toFixed(2)}× write-then-upload` : ""}.`,
      );
    const streamed = rowOf(point, `${store}-streamed`);
    if (streamed?.wallS !== undefined && streamed.peakTempMiB * MiB >= 0.5 * point.archiveBytes)
      notes.push(
        `${name}: uploadEnv wrote a temporary archive (${f1(streamed.peakTempMiB)} MiB peak in TMPDIR for a ${f1(point.archiveBytes / MiB)} MiB archive): it packs to a file, then uploads.`,
      );
  }
  return [
    `### ${pointName(point)} (archive ${f0(point.archiveBytes / MB)} MB)`,
    "",
    ...header,
    ...lines,
    "",
    ...notes.map((note) => `- ${note}`),
    "",
  ];
}

export function renderUpload(result) {
  const m = result.machine;
  return [
    "## Pack → upload: streamed against write-then-upload",
    "",
    `Command: \`${result.command}\` on ${result.date}; ${m.cores} cores (${m.cpu}); /proc/loadavg before: ${m.loadAverageBefore}, after: ${m.loadAverageAfter}. TMPDIR sampled every ${result.tempSampleIntervalMs} ms. ${(result.runsPerRow ?? 1) > 1 ? `Each row run ${result.runsPerRow} times: the run of median wall time is shown.` : "Each row run once."}`,
    "",
    ...result.points.flatMap(renderPoint),
    "Targets:",
    "",
    ...result.targets.map((target) => `- ${target.line}`),
    "",
  ].join("\n");
}
