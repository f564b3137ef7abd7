// Packs real Python trees with our writers and with the usual peers, and prints a markdown table.
// Usage: pnpm --filter @cluster-pack/archive bench [dir…]   (needs a build: pnpm --filter @cluster-pack/archive build)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";

const index = new URL("../dist/index.js", import.meta.url).href;
const purelib = execFileSync("python3", ["-c", "import sysconfig;print(sysconfig.get_paths()['purelib'])"], {
  encoding: "utf8",
}).trim();
const trees = process.argv.length > 2 ? process.argv.slice(2) : ["/usr/lib/python3/dist-packages", purelib];
const has = (command) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;

const ours = (kind, options) => (dir, out) => [
  process.execPath,
  [
    "--input-type=module",
    "-e",
    `const m = await import(${JSON.stringify(index)});
     await m.${kind}(m.collectTree(process.argv[1]), process.argv[2], ${JSON.stringify(options)});`,
    dir,
    out,
  ],
];
const pyZip = (compression, level) => (dir, out) => [
  "python3",
  [
    "-c",
    `import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", compression=zipfile.${compression}, compresslevel=${level}) as z:
    for d, dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if os.path.isfile(p): z.write(p, os.path.relpath(p, root))`,
    dir,
    out,
  ],
];
const shell = (script) => (dir, out) => ["sh", ["-c", script, "sh", dir, out]];

const tools = [
  ["tar cf - \\| cat > /dev/null", shell('tar cf - -C "$1" . | cat > /dev/null'), "none"],
  ["ours zip store", ours("writeZip", { level: 0 }), "store"],
  ["python zipfile ZIP_STORED", pyZip("ZIP_STORED", "None"), "store"],
  ...(has("zip") ? [["zip -r -0 -q", shell('cd "$1" && zip -r -0 -q "$2" .'), "store"]] : []),
  ["ours zip deflate-1", ours("writeZip", { level: 1 }), "deflate"],
  ["python zipfile deflate-1", pyZip("ZIP_DEFLATED", 1), "deflate"],
  ["python zipfile deflate-0", pyZip("ZIP_DEFLATED", 0), "deflate"],
  ...(has("zip") ? [["zip -r -1 -q", shell('cd "$1" && zip -r -1 -q "$2" .'), "deflate"]] : []),
  ["ours tar", ours("writeTar", {}), "tar"],
  ["ours tar.gz -1", ours("writeTar", { gzip: true, level: 1 }), "tar"],
  ["tar czf (gzip -6)", shell('tar czf "$2" -C "$1" .'), "tar"],
];

const bytesOf = (dir) =>
  Number(execFileSync("du", ["-sb", "--apparent-size", dir], { encoding: "utf8" }).split("\t")[0]);

console.log(
  `Node ${process.version}, load average ${loadavg()[0]?.toFixed(2)} (other work on the machine slows the parallel writers most), ${cpus().length} cores, ${cpus()[0]?.model ?? "?"}; best of 2 runs, warm cache.\n`,
);
for (const dir of trees) {
  const content = bytesOf(dir);
  const files = Number(execFileSync("sh", ["-c", `find "${dir}" -type f | wc -l`], { encoding: "utf8" }));
  const work = mkdtempSync(join(tmpdir(), "cp-archive-bench-"));
  execFileSync("sh", ["-c", `tar cf - -C "${dir}" . > /dev/null`]); // warm the page cache
  const rows = [];
  for (const [name, command] of tools) {
    let best = Number.POSITIVE_INFINITY;
    let size = 0;
    for (let run = 0; run < 2; run++) {
      // `.zip` on every output: Info-ZIP's zip appends it to a name without one.
      const out = join(work, `out-${run}.zip`);
      const [file, args] = command(dir, out);
      const started = performance.now();
      const result = spawnSync(file, args, { stdio: ["ignore", "ignore", "inherit"] });
      const seconds = (performance.now() - started) / 1000;
      if (result.status !== 0) throw new Error(`${name} failed on ${dir}`);
      best = Math.min(best, seconds);
      try {
        size = statSync(out).size;
        rmSync(out);
      } catch {
        size = 0;
      }
    }
    rows.push({ name, seconds: best, size });
  }
  rmSync(work, { recursive: true, force: true });
  const time = (name) => rows.find((row) => row.name === name)?.seconds ?? Number.NaN;
  const sizeOf = (name) => rows.find((row) => row.name === name)?.size ?? Number.NaN;
  console.log(`### ${dir}\n\n${(content / 1e6).toFixed(0)} MB, ${files} files\n`);
  console.log(
    "| tool | wall s | MB/s | archive MB | vs tar throughput | vs zipfile deflate-1 time | size vs zipfile-1 |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const row of rows) {
    const cells = [
      row.name,
      row.seconds.toFixed(2),
      (content / 1e6 / row.seconds).toFixed(0),
      row.size ? (row.size / 1e6).toFixed(1) : "–",
      `${((time("tar cf - \\| cat > /dev/null") / row.seconds) * 100).toFixed(0)}%`,
      `${(time("python zipfile deflate-1") / row.seconds).toFixed(2)}×`,
      row.size ? (row.size / sizeOf("python zipfile deflate-1")).toFixed(3) : "–",
    ];
    console.log(`| ${cells.join(" | ")} |`);
  }
  console.log("");
}
