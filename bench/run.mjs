// The packing benchmark: our zipapp and unpack layouts against Python's zipfile and zipapp, zip and tar, on one
// environment, in one run. `node run.mjs --help` lists the options; bench/README.md explains the measurements.

import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { importableModules, importStatement } from "./lib/first-run.mjs";
import { prepareFixture, syntheticFixture } from "./lib/fixtures.mjs";
import { medianWall, runOrThrow, timed } from "./lib/measure.mjs";
import { renderFixture, renderScale, targetLines } from "./lib/report.mjs";
import { scalePoints } from "./lib/scale-points.mjs";
import { generateSynthetic } from "./synthetic.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values: options } = parseArgs({
  options: {
    fixture: { type: "string", default: "debian" },
    work: { type: "string", default: "/tmp/cluster-pack-bench" },
    scale: { type: "string", default: "default" },
    "no-first-run": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (options.help) {
  process.stdout.write(`node run.mjs [--fixture debian|pyenv|none] [--scale default|all|none|FILES:MB,...]
  --fixture debian   Debian's scientific stack (installed with apt-get when missing and root); pyenv: the machine's python3
  --scale default    synthetic points 1000:100,10000:400 (files:MB); all adds 50000:1000 and 200000:5000
  --no-first-run     skip the extraction + import measurements
  --work DIR         scratch directory (default /tmp/cluster-pack-bench), emptied first
`);
  process.exit(0);
}
const log = (line) => process.stderr.write(`bench: ${line}\n`);
const MB = 1e6;

/**
 * Our packer in a fresh node process per run, so peak RSS and CPU time are that pack's alone. With `compileWith`,
 * the child's XDG_CACHE_HOME is `cacheHome`, where `packZipapp` keeps the bytecode it compiles.
 */
async function packOurs(fixture, { id, layout, level, output, compileWith, cacheHome }, scratch) {
  const job = join(scratch, `job-${id}.json`);
  await writeFile(
    job,
    JSON.stringify({
      interpreter: fixture.interpreter,
      distributions: fixture.distributions,
      output,
      layout,
      level,
      ...(compileWith && { compileWith }),
    }),
  );
  const env = compileWith ? { ...process.env, XDG_CACHE_HOME: cacheHome } : undefined;
  await rm(output, { force: true });
  const measured = await timed(process.execPath, [join(here, "pack-child.mjs"), job], { env });
  const inner = JSON.parse(measured.stdout);
  return {
    ...measured,
    inner,
    bytes: inner.result.bytes,
    entries: inner.result.entries,
    zip64: inner.result.zip64,
  };
}

// cluster-pack (Python) zips with `zipfile.ZipFile.write` over `os.walk`; this is that, sorted for a stable order.
const ZIPFILE_SCRIPT = `
import os, sys, zipfile
src, out, level = sys.argv[1], sys.argv[2], int(sys.argv[3])
method = zipfile.ZIP_STORED if level == 0 else zipfile.ZIP_DEFLATED
with zipfile.ZipFile(out, "w", method, compresslevel=None if level == 0 else level) as archive:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            archive.write(path, os.path.relpath(path, src))
`;
const EXTRACT_SCRIPT = "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])";
// Our zipapp is `[shebang][environment zip][launcher zip]`, and zipfile reads a file's last zip: the launcher's two
// entries. So the reference first copies out the environment zip (untimed): the bytes before the launcher's first
// local header (the bootstrap's rule), checked to end with an end record. Then it is extracted as any zip, every
// entry our bootstrap extracts plus its `__main__.py` and `PEX-INFO`, and the count printed.
const CUT_ENVIRONMENT_SCRIPT = `
import sys, zipfile
archive, copy = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(archive) as launcher:
    end = min(info.header_offset for info in launcher.infolist())
with open(archive, "rb") as source, open(copy, "wb") as target:
    source.seek(end - 22)
    if source.read(4) != b"PK\\x05\\x06":
        sys.exit("%s: no environment zip before the launcher" % archive)
    source.seek(0)
    left = end
    while left:
        chunk = source.read(min(left, 1 << 24))
        target.write(chunk)
        left -= len(chunk)
`;
const EXTRACT_COUNTING_SCRIPT =
  "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2]); print(len(z.infolist()))";

async function fileSize(path) {
  return (await stat(path)).size;
}

/** Every packer of the comparison; `ours` ones also know how they are run. */
function contenders(fixture, python, out) {
  const tree = fixture.tree;
  const peer = (id, label, output, command, args, extra = {}) => ({
    id,
    label,
    output,
    pack: async () => {
      await rm(output, { force: true });
      const measured = await timed(command, args, { cwd: tree });
      return { ...measured, bytes: await fileSize(output) };
    },
    ...extra,
  });
  const ours = (id, label, layout, level, output, compile = {}) => {
    const contender = { id, label, output, ours: true, layout, level, ...compile };
    return { ...contender, pack: () => packOurs(fixture, contender, out) };
  };
  // --compile: bytecode made by the fixture's own interpreter, into a bytecode cache that starts empty (under the
  // work directory, never the user's ~/.cache), so the pack's time includes compiling every source once.
  const compile = {
    compileWith: fixture.interpreter.executable ?? python,
    cacheHome: join(out, "xdg-cache"),
  };
  return [
    ours("ours-zipapp-0", "cluster-pack zipapp, store", "zipapp", 0, join(out, "env-store.pex")),
    ours("ours-zipapp-1", "cluster-pack zipapp, fast deflate", "zipapp", 1, join(out, "env-fast.pex")),
    ours(
      "ours-zipapp-1-compile",
      "cluster-pack zipapp, fast deflate, --compile",
      "zipapp",
      1,
      join(out, "env-fast-compile.pex"),
      compile,
    ),
    ours("ours-unpack-0", "cluster-pack unpack layout, store", "unpack", 0, join(out, "env-store.pex.zip")),
    ours(
      "ours-unpack-1",
      "cluster-pack unpack layout, fast deflate",
      "unpack",
      1,
      join(out, "env-fast.pex.zip"),
    ),
    peer("zipfile-0", "Python zipfile, stored", join(out, "zipfile-0.zip"), python, [
      "-c",
      ZIPFILE_SCRIPT,
      tree,
      join(out, "zipfile-0.zip"),
      "0",
    ]),
    peer("zipfile-1", "Python zipfile, compresslevel=1", join(out, "zipfile-1.zip"), python, [
      "-c",
      ZIPFILE_SCRIPT,
      tree,
      join(out, "zipfile-1.zip"),
      "1",
    ]),
    // zipapp needs a __main__: `-m code:interact` makes it write one (the archive is then an interactive
    // interpreter), so the tree is packed as is, with no staging copy.
    peer("zipapp", "python -m zipapp (stored)", join(out, "zipapp.pyz"), python, [
      "-m",
      "zipapp",
      tree,
      "-o",
      join(out, "zipapp.pyz"),
      "-m",
      "code:interact",
      "-p",
      "/usr/bin/env python3",
    ]),
    peer("zipapp-c", "python -m zipapp -c (deflate, zlib default level)", join(out, "zipapp-c.pyz"), python, [
      "-m",
      "zipapp",
      tree,
      "-o",
      join(out, "zipapp-c.pyz"),
      "-m",
      "code:interact",
      "-c",
    ]),
    peer("zip-1", "zip -r -1 -q", join(out, "zip-1.zip"), "zip", [
      "-r",
      "-1",
      "-q",
      join(out, "zip-1.zip"),
      ".",
    ]),
    peer("tar-gz", "tar czf", join(out, "tree.tar.gz"), "tar", ["czf", join(out, "tree.tar.gz"), "."]),
  ];
}

/**
 * What every timed Python gets: this process's environment without what would stop it writing bytecode beside
 * the sources (a shell or CI with PYTHONDONTWRITEBYTECODE=1 would otherwise make every "second run" compile
 * everything again, and only the `--compile` row fast).
 */
const BYTECODE_VARIABLES = ["PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"];
const unsetForPython = BYTECODE_VARIABLES.filter((name) => process.env[name] !== undefined);
const pythonEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !BYTECODE_VARIABLES.includes(name)),
);

/**
 * First run: a fresh extraction plus importing every importable top-level module; second run: the same again,
 * warm; `-c pass` overhead: a warm `-c pass` against plain `python -c pass`. Bytecode is written where each
 * tool's extraction puts the sources, as on a cluster node.
 */
function firstRunCommands(contender, python, run) {
  const dir = join(run, contender.id);
  const archive = contender.output;
  const sh = (script) => ["bash", ["-c", script]];
  const q = (s) => `'${s.replaceAll("'", "'\\''")}'`;
  if (contender.ours && contender.layout === "zipapp") {
    const env = { ...pythonEnv, PEX_ROOT: dir, PEX_INHERIT_PATH: "false", MPLBACKEND: "Agg" };
    return {
      env,
      extractOnly: [python, ["-S", archive, "-c", "pass"], { ...env, PEX_ROOT: `${dir}-extract-only` }],
      run: (code) => [python, ["-S", archive, "-c", code]],
      pass: [python, [archive, "-c", "pass"]],
    };
  }
  const deps = contender.depsSubdir ?? (contender.ours ? "pyenv/.deps" : "");
  const env = { ...pythonEnv, PYTHONPATH: join(dir, deps), MPLBACKEND: "Agg" };
  const extractor = (target) =>
    contender.id === "tar-gz"
      ? `mkdir -p ${q(target)} && tar xzf ${q(archive)} -C ${q(target)}`
      : contender.ours || contender.id === "zip-1"
        ? `mkdir -p ${q(target)} && unzip -q ${q(archive)} -d ${q(target)}`
        : `${q(python)} -S -c ${q(contender.extractScript ?? EXTRACT_SCRIPT)} ${q(archive)} ${q(target)}`;
  const target = contender.ours ? join(dir, "pyenv") : dir;
  const extractOnlyTarget = contender.ours ? join(`${dir}-extract-only`, "pyenv") : `${dir}-extract-only`;
  if (contender.ours) {
    const main = join(target, "__main__.py");
    return {
      // No PYTHONPATH: the bootstrap puts pyenv/.deps on sys.path itself (and, with inherit_path=false, drops
      // PYTHONPATH entries, .deps included when it is listed there).
      env: { ...pythonEnv, MPLBACKEND: "Agg", PEX_INHERIT_PATH: "false" },
      extractOnly: [...sh(extractor(extractOnlyTarget)), env],
      first: (code) => sh(`${extractor(target)} && ${q(python)} -S ${q(main)} -c ${q(code)}`),
      run: (code) => [python, ["-S", main, "-c", code]],
      pass: [python, [main, "-c", "pass"]],
    };
  }
  return {
    env,
    extractOnly: [...sh(extractor(extractOnlyTarget)), env],
    first: (code) => sh(`${extractor(target)} && ${q(python)} -S -c ${q(code)}`),
    run: (code) => [python, ["-S", "-c", code]],
    pass: [python, ["-c", "pass"]],
  };
}

async function measureFirstRun(contender, python, runDir, modules) {
  const commands = firstRunCommands(contender, python, runDir);
  const code = importStatement(modules);
  const [extractCommand, extractArgs, extractEnv] = commands.extractOnly;
  const extractOnly = await timed(extractCommand, extractArgs, { env: extractEnv });
  const entriesExtracted = Number.parseInt(extractOnly.stdout.trim(), 10);
  const [firstCommand, firstArgs] = commands.first ? commands.first(code) : commands.run(code);
  const first = await timed(firstCommand, firstArgs, { env: commands.env });
  const [secondCommand, secondArgs] = commands.run(code);
  const second = await timed(secondCommand, secondArgs, { env: commands.env });
  const passWall = await medianWall(commands.pass[0], commands.pass[1], { env: commands.env }, 7);
  return {
    extractOnlyS: extractOnly.wallS,
    firstRunS: first.wallS,
    secondRunS: second.wallS,
    passS: passWall,
    // The environment-zip reference prints how many entries it extracted.
    ...(Number.isInteger(entriesExtracted) && { entriesExtracted }),
  };
}

function machineState() {
  const [one, five, fifteen] = loadavg();
  return { cores: cpus().length, cpu: cpus()[0]?.model, loadAverage: [one, five, fifteen] };
}

async function benchFixture(name) {
  const work = join(options.work, name);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const fixture = await prepareFixture(name, work, log);
  const python = fixture.python;
  log(`${fixture.description}: ${fixture.files} files, ${(fixture.bytes / MB).toFixed(0)} MB`);
  const out = join(work, "out");
  await mkdir(out, { recursive: true });
  const loadBefore = await readFile("/proc/loadavg", "utf8");

  // Warm the page cache first, so that no tool pays for the disk on behalf of the others; then the baseline.
  await runOrThrow("bash", ["-c", `tar cf - -C '${fixture.tree}' . | cat > /dev/null`]);
  const baseline = await timed("bash", ["-c", `tar cf - -C '${fixture.tree}' . | cat > /dev/null`]);
  log(`baseline tar cf - | cat > /dev/null: ${baseline.wallS.toFixed(2)} s`);

  const rows = [];
  for (const contender of contenders(fixture, python, out)) {
    if (contender.cacheHome) await rm(contender.cacheHome, { recursive: true, force: true });
    const measured = await contender.pack();
    log(`${contender.label}: ${measured.wallS.toFixed(2)} s, ${(measured.bytes / MB).toFixed(0)} MB`);
    // The same pack again, its bytecode now cached: what every later pack of this environment costs.
    let warmCache;
    if (contender.cacheHome) {
      const again = await packOurs(
        fixture,
        { ...contender, id: `${contender.id}-warm-cache`, output: join(out, "warm-cache.pex") },
        out,
      );
      await rm(join(out, "warm-cache.pex"), { force: true });
      warmCache = { wallS: again.wallS, cpuS: again.cpuS, maxRssMB: again.maxRssMB, bytes: again.bytes };
      log(`${contender.label}, bytecode cache warm: ${again.wallS.toFixed(2)} s`);
    }
    rows.push({
      id: contender.id,
      label: contender.label,
      wallS: measured.wallS,
      cpuS: measured.cpuS,
      maxRssMB: measured.maxRssMB,
      bytes: measured.bytes,
      throughputMBs: fixture.bytes / MB / measured.wallS,
      ...(measured.inner && {
        inProcess: {
          wallS: measured.inner.wallS,
          cpuS: measured.inner.cpuS,
          maxRssMB: measured.inner.maxRssMB,
        },
        entries: measured.entries,
        zip64: measured.zip64,
      }),
      ...(warmCache && { packWarmCache: warmCache }),
      contender,
    });
  }

  let firstRun;
  if (!options["no-first-run"]) {
    const scratch = join(work, "scratch");
    const { importable, skipped } = await importableModules(python, fixture.tree, scratch, log);
    const runDir = join(work, "first-run");
    const plainPass = await medianWall(python, ["-c", "pass"], { env: pythonEnv }, 7);
    if (unsetForPython.length) log(`first runs: ${unsetForPython.join(", ")} unset, so bytecode is written`);
    for (const row of rows) {
      try {
        row.firstRun = await measureFirstRun(row.contender, python, runDir, importable);
      } catch (error) {
        row.firstRunError = String(error.message).split("\n").slice(-3).join(" ");
        log(`${row.label}: first run failed: ${row.firstRunError}`);
        continue;
      }
      log(
        `${row.label}: first run ${row.firstRun.firstRunS.toFixed(2)} s (extract only ${row.firstRun.extractOnlyS.toFixed(2)} s)`,
      );
    }
    // The same archive (our fast-deflate zipapp) extracted by Python's zipfile: the target's reference. Its
    // environment zip, copied out (CUT_ENVIRONMENT_SCRIPT): zipfile on the whole file sees the launcher.
    const pex = rows.find((row) => row.id === "ours-zipapp-1");
    const environmentZip = `${pex.contender.output}.environment.zip`;
    await runOrThrow(python, ["-c", CUT_ENVIRONMENT_SCRIPT, pex.contender.output, environmentZip]);
    const viaZipfile = {
      id: "zipfile-extract-our-pex",
      output: environmentZip,
      ours: false,
      depsSubdir: ".deps",
      extractScript: EXTRACT_COUNTING_SCRIPT,
    };
    const reference = await measureFirstRun(
      viaZipfile,
      python,
      runDir,
      importable.map((m) => m),
    );
    log(
      `zipfile extracting the environment zip of ${pex.label}: ${reference.entriesExtracted} entries (the pack wrote ${pex.entries}), first run ${reference.firstRunS.toFixed(2)} s`,
    );
    await rm(runDir, { recursive: true, force: true });
    firstRun = {
      modules: importable,
      skipped,
      plainPassS: plainPass,
      zipfileExtractOfOurPex: reference,
      unsetForPython,
    };
  }

  const result = {
    fixture: {
      name: fixture.name,
      description: fixture.description,
      files: fixture.files,
      bytes: fixture.bytes,
      python,
    },
    machine: {
      ...machineState(),
      loadAverageBefore: loadBefore.trim(),
      loadAverageAfter: (await readFile("/proc/loadavg", "utf8")).trim(),
    },
    command: `node bench/run.mjs ${process.argv.slice(2).join(" ")}`.trim(),
    date: new Date().toISOString(),
    baseline: {
      label: "tar cf - tree | cat > /dev/null",
      wallS: baseline.wallS,
      cpuS: baseline.cpuS,
      throughputMBs: fixture.bytes / MB / baseline.wallS,
    },
    rows: rows.map(({ contender: _c, ...row }) => row),
    firstRun,
  };
  result.targets = targetLines(result);
  return result;
}

async function benchScale(points) {
  const rows = [];
  for (const { files, mb } of points) {
    const dir = join(options.work, `synthetic-${files}-${mb}`);
    log(`synthetic: generating ${files} files, ${mb} MB`);
    const generated = await generateSynthetic({ files, bytes: mb * MB, out: dir });
    const fixture = await syntheticFixture(generated.sitePackages, "python3");
    const out = join(dir, "out");
    await mkdir(out, { recursive: true });
    await runOrThrow("bash", ["-c", `tar cf - -C '${fixture.tree}' . | cat > /dev/null`]);
    const all = contenders(fixture, "python3", out);
    const point = { files: fixture.files, bytes: fixture.bytes };
    for (const id of ["ours-zipapp-0", "ours-zipapp-1", "zipfile-1"]) {
      const contender = all.find((c) => c.id === id);
      const measured = await contender.pack();
      point[id] = {
        wallS: measured.wallS,
        cpuS: measured.cpuS,
        maxRssMB: measured.maxRssMB,
        bytes: measured.bytes,
      };
      log(`  ${contender.label}: ${measured.wallS.toFixed(2)} s`);
    }
    rows.push(point);
    await rm(dir, { recursive: true, force: true });
  }
  return {
    machine: machineState(),
    command: `node bench/run.mjs ${process.argv.slice(2).join(" ")}`.trim(),
    date: new Date().toISOString(),
    points: rows,
  };
}

const results = join(here, "results");
await mkdir(results, { recursive: true });
if (options.fixture !== "none") {
  const result = await benchFixture(options.fixture);
  const { markdown, svg } = renderFixture(result);
  process.stdout.write(`${markdown}\n`);
  await writeFile(join(results, `${result.fixture.name}.md`), markdown);
  await writeFile(join(results, `${result.fixture.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(results, `${result.fixture.name}.svg`), svg);
}
const points = scalePoints(options.scale);
if (points.length) {
  const scale = await benchScale(points);
  const { markdown, svg } = renderScale(scale);
  process.stdout.write(`${markdown}\n`);
  await writeFile(join(results, "synthetic.md"), markdown);
  await writeFile(join(results, "synthetic.json"), `${JSON.stringify(scale, null, 2)}\n`);
  await writeFile(join(results, "synthetic.svg"), svg);
}
