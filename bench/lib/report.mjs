const MB = 1e6;
const f2 = (n) => (n === undefined ? "–" : n.toFixed(2));
const f0 = (n) => (n === undefined ? "–" : n.toFixed(0));
const ms = (s) => (s === undefined ? "–" : (s * 1000).toFixed(0));

/** The issue's targets, each one line with the measured numbers and PASS/FAIL. */
export function targetLines(result) {
  const row = (id) => result.rows.find((r) => r.id === id);
  const store = row("ours-zipapp-0");
  const fast = row("ours-zipapp-1");
  const zipfile1 = row("zipfile-1");
  const lines = [];
  const add = (pass, text) => lines.push({ pass, line: `${pass ? "PASS" : "FAIL"} ${text}` });
  const storeShare = store.throughputMBs / result.baseline.throughputMBs;
  add(
    storeShare >= 0.9,
    `store ≥ 90% of tar cf - | cat throughput: ${f0(store.throughputMBs)} vs ${f0(result.baseline.throughputMBs)} MB/s (${(storeShare * 100).toFixed(0)}%)`,
  );
  const speedup = zipfile1.wallS / fast.wallS;
  add(
    speedup >= 1.8 && fast.bytes <= zipfile1.bytes,
    `fast deflate ≥ 1.8× zipfile level 1, no larger: ${speedup.toFixed(2)}×, ${f0(fast.bytes / MB)} MB vs ${f0(zipfile1.bytes / MB)} MB`,
  );
  add(fast.throughputMBs >= 150, `≥ 150 MB/s at fast deflate: ${f0(fast.throughputMBs)} MB/s`);
  const first = result.firstRun;
  if (first && fast.firstRun) {
    const reference = first.zipfileExtractOfOurPex;
    const ratio = reference.firstRunS / fast.firstRun.firstRunS;
    add(
      ratio >= 2,
      `first run (extract + import ${first.modules.length} modules) ≥ 2× faster than zipfile extracting the same archive: ${f2(fast.firstRun.firstRunS)} s vs ${f2(reference.firstRunS)} s (${ratio.toFixed(2)}×; extraction alone ${f2(fast.firstRun.extractOnlyS)} s vs ${f2(reference.extractOnlyS)} s, ${(reference.extractOnlyS / fast.firstRun.extractOnlyS).toFixed(2)}×)`,
    );
    const over = fast.firstRun.passS - first.plainPassS;
    add(
      over < 0.05,
      `second run < 50 ms over python -c pass: +${ms(over)} ms (${ms(fast.firstRun.passS)} vs ${ms(first.plainPassS)} ms)`,
    );
  }
  const compiled = row("ours-zipapp-1-compile");
  if (first && compiled?.firstRun) {
    const { firstRunS, secondRunS } = compiled.firstRun;
    add(
      firstRunS <= 1.3 * secondRunS,
      `first run with --compile ≤ 1.3× the warm run: ${f2(firstRunS)} s vs ${f2(secondRunS)} s (${(firstRunS / secondRunS).toFixed(2)}×; without --compile ${f2(fast.firstRun?.firstRunS)} s vs ${f2(fast.firstRun?.secondRunS)} s)`,
    );
  }
  if (first)
    for (const zipapp of [store, fast, compiled]) {
      if (!zipapp?.firstRun) continue;
      const over = zipapp.firstRun.passS - first.plainPassS;
      add(
        over <= 0.025,
        `warm \`-c pass\` ≤ 25 ms over bare python, ${zipapp.label}: +${ms(over)} ms (${ms(zipapp.firstRun.passS)} vs ${ms(first.plainPassS)} ms)`,
      );
    }
  return lines;
}

export function renderFixture(result) {
  const zipfile1 = result.rows.find((r) => r.id === "zipfile-1");
  const first = result.firstRun;
  const header = [
    "| tool | wall s | CPU s | peak RSS MB | archive MB | MB/s | speed vs zipfile -1 | first run s | extract only s | second run s | `-c pass` ms |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const lines = result.rows.map(
    (r) =>
      `| ${r.label} | ${f2(r.wallS)} | ${f2(r.cpuS)} | ${f0(r.maxRssMB)} | ${f0(r.bytes / MB)} | ${f0(r.throughputMBs)} | ${(zipfile1.wallS / r.wallS).toFixed(2)}× | ${f2(r.firstRun?.firstRunS)} | ${f2(r.firstRun?.extractOnlyS)} | ${f2(r.firstRun?.secondRunS)} | ${ms(r.firstRun?.passS)} |`,
  );
  const ref = first?.zipfileExtractOfOurPex;
  if (ref)
    lines.push(
      `| zipfile.extractall of our fast-deflate env.pex's environment zip (first-run reference) | | | | | | | ${f2(ref.firstRunS)} | ${f2(ref.extractOnlyS)} | ${f2(ref.secondRunS)} | ${ms(ref.passS)} |`,
    );
  lines.push(
    `| baseline: tar cf - tree \\| cat > /dev/null | ${f2(result.baseline.wallS)} | ${f2(result.baseline.cpuS)} | | | ${f0(result.baseline.throughputMBs)} | | | | | |`,
  );
  const m = result.machine;
  const markdown = [
    `## ${result.fixture.name}: ${result.fixture.files} files, ${f0(result.fixture.bytes / MB)} MB`,
    "",
    `${result.fixture.description}; interpreter ${result.fixture.python}.`,
    `Command: \`${result.command}\` on ${result.date}; ${m.cores} cores (${m.cpu}); /proc/loadavg before: ${m.loadAverageBefore}, after: ${m.loadAverageAfter}.`,
    "",
    ...header,
    ...lines,
    "",
    first
      ? `First run: fresh extraction + \`import\` of ${first.modules.length} top-level modules; second run: the same, warm; \`-c pass\`: warm, median of 7 (plain \`python -c pass\`: ${ms(first.plainPassS)} ms). Skipped (do not import cleanly from the tree alone): ${first.skipped.map((s) => `\`${s.name}\``).join(", ") || "none"}.`
      : "First runs not measured (--no-first-run).",
    ...compileNote(result),
    "",
    "Targets:",
    "",
    ...result.targets.map((t) => `- ${t.line}`),
    "",
  ].join("\n");
  return {
    markdown,
    svg: barChart(
      `Packing ${result.fixture.name} (${f0(result.fixture.bytes / MB)} MB, ${result.fixture.files} files): wall time`,
      [
        ...result.rows.map((r) => ({ label: r.label, value: r.wallS, ours: r.id.startsWith("ours") })),
        { label: "baseline: tar cf - | cat", value: result.baseline.wallS, ours: false },
      ],
    ),
  };
}

/** How the --compile row was packed, and what a later pack with its bytecode cache warm costs. */
function compileNote(result) {
  const compiled = result.rows.find((r) => r.id === "ours-zipapp-1-compile");
  const fast = result.rows.find((r) => r.id === "ours-zipapp-1");
  if (!compiled) return [];
  const warm = compiled.packWarmCache;
  return [
    "",
    `\`--compile\`: \`compileWith: ${result.fixture.python}\`, XDG_CACHE_HOME a fresh directory under the bench's work directory, so its pack time includes compiling every source into the empty bytecode cache; ${compiled.entries} entries against ${fast?.entries} without.${warm ? ` Packed again with that cache warm: ${f2(warm.wallS)} s wall, ${f2(warm.cpuS)} s CPU, ${f0(warm.maxRssMB)} MB peak RSS.` : ""}`,
  ];
}

export function renderScale(scale) {
  const header = [
    "| files | MB | ours store s | ours fast deflate s | zipfile -1 s | fast deflate vs zipfile -1 | ours fast MB/s | sizes MB (ours fast / zipfile -1) |",
    "|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const lines = scale.points.map((p) => {
    const store = p["ours-zipapp-0"];
    const fast = p["ours-zipapp-1"];
    const zipfile = p["zipfile-1"];
    return `| ${p.files} | ${f0(p.bytes / MB)} | ${f2(store.wallS)} | ${f2(fast.wallS)} | ${f2(zipfile.wallS)} | ${(zipfile.wallS / fast.wallS).toFixed(2)}× | ${f0(p.bytes / MB / fast.wallS)} | ${f0(fast.bytes / MB)} / ${f0(zipfile.bytes / MB)} |`;
  });
  const markdown = [
    "## Synthetic scale curve",
    "",
    `Command: \`${scale.command}\` on ${scale.date}; ${scale.machine.cores} cores, load average ${scale.machine.loadAverage.map((l) => l.toFixed(2)).join(" ")}.`,
    "",
    ...header,
    ...lines,
    "",
  ].join("\n");
  const bars = scale.points.flatMap((p) => [
    { label: `${p.files} files ours store`, value: p["ours-zipapp-0"].wallS, ours: true },
    { label: `${p.files} files ours fast`, value: p["ours-zipapp-1"].wallS, ours: true },
    { label: `${p.files} files zipfile -1`, value: p["zipfile-1"].wallS, ours: false },
  ]);
  return { markdown, svg: barChart("Synthetic environments: wall time", bars) };
}

const escapeXml = (text) =>
  text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);

/** A plain horizontal bar chart: one bar per tool, ours in blue, peers in grey. */
function barChart(title, bars) {
  const labelWidth = 330;
  const plotWidth = 420;
  const barHeight = 22;
  const top = 40;
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  const height = top + bars.length * (barHeight + 6) + 20;
  const rows = bars.map((bar, index) => {
    const y = top + index * (barHeight + 6);
    const width = Math.max(1, (bar.value / max) * plotWidth);
    return [
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="${barHeight}" fill="${bar.ours ? "#2b6cb0" : "#a0aec0"}"/>`,
      `<text x="${(labelWidth + width + 6).toFixed(1)}" y="${y + 15}">${bar.value.toFixed(2)} s</text>`,
    ].join("");
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 80}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...rows,
    "</svg>",
    "",
  ].join("\n");
}
