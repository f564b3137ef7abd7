// A synthetic venv-like site-packages for the scale curve: N files of compressible, Python-like text spread over
// packages with a `.dist-info` each (METADATA, WHEEL, top_level.txt, RECORD with sha256 and sizes), as pip leaves it.
//   node synthetic.mjs --files 10000 --mb 400 --out /tmp/synthetic   (prints the site-packages path)
import { createHash } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";

const WORDS = (
  "self return import from def class if else elif for in while try except finally with as yield lambda None True " +
  "False raise assert not and or is pass break continue value result index count name path data array frame " +
  "config options key item items values dtype shape axis columns rows buffer offset length size level module"
).split(" ");

/** A small deterministic PRNG (mulberry32): the same arguments give the same tree. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Python-looking lines with random identifiers and numbers: deflate shrinks it about 3–4×, like real sources. */
function pythonLike(next, bytes) {
  const lines = [];
  let size = 0;
  const word = () => WORDS[Math.floor(next() * WORDS.length)];
  const ident = () => `${word()}_${Math.floor(next() * 100000).toString(36)}`;
  while (size < bytes) {
    const indent = " ".repeat(4 * Math.floor(next() * 3));
    const kind = next();
    const line =
      kind < 0.15
        ? `def ${ident()}(self, ${ident()}, ${ident()}=None):`
        : kind < 0.2
          ? `class ${ident()}(${word()}):`
          : kind < 0.3
            ? `# ${word()} ${word()} ${word()} ${ident()} ${word()}`
            : `${indent}${ident()} = ${ident()}.${word()}(${ident()}, ${Math.floor(next() * 1e6)}) ${word()} ${ident()}`;
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(`${lines.join("\n")}\n`.slice(0, bytes));
}

const recordHash = (data) => `sha256=${createHash("sha256").update(data).digest("base64url")}`;

export async function generateSynthetic({ files, bytes, out, seed = 1, filesPerPackage = 500 }) {
  const sitePackages = join(out, "lib", "python3.11", "site-packages");
  await rm(out, { recursive: true, force: true });
  const next = random(seed);
  const perFile = Math.max(1, Math.floor(bytes / files));
  const packages = Math.ceil(files / filesPerPackage);
  let written = 0;
  for (let p = 0; p < packages; p++) {
    const name = `synthpkg${String(p).padStart(4, "0")}`;
    const distInfo = `${name}-1.0.dist-info`;
    const record = [];
    const count = Math.min(filesPerPackage, files - p * filesPerPackage);
    const writes = [];
    for (let f = 0; f < count; f++) {
      const sub = `sub${Math.floor(f / 50)}`;
      const path = `${name}/${sub}/module_${f}.py`;
      // Sizes vary around the mean (0.25×–1.75×), as real packages mix tiny and large modules.
      const data = pythonLike(next, Math.max(1, Math.round(perFile * (0.25 + 1.5 * next()))));
      written += data.length;
      record.push(`${path},${recordHash(data)},${data.length}`);
      writes.push([path, data]);
    }
    const dirs = new Set(writes.map(([path]) => join(sitePackages, path, "..")));
    for (const dir of dirs) await mkdir(dir, { recursive: true });
    await Promise.all(
      [...dirs].filter((d) => d.endsWith("sub0")).map((d) => writeFile(join(d, "..", "__init__.py"), "")),
    );
    record.push(`${name}/__init__.py,${recordHash(Buffer.alloc(0))},0`);
    for (let i = 0; i < writes.length; i += 64)
      await Promise.all(
        writes.slice(i, i + 64).map(([path, data]) => writeFile(join(sitePackages, path), data)),
      );
    await mkdir(join(sitePackages, distInfo), { recursive: true });
    const meta = {
      METADATA: `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`,
      WHEEL: "Wheel-Version: 1.0\nGenerator: cluster-pack-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
      "top_level.txt": `${name}\n`,
      INSTALLER: "pip\n",
    };
    for (const [file, text] of Object.entries(meta)) {
      await writeFile(join(sitePackages, distInfo, file), text);
      record.push(`${distInfo}/${file},${recordHash(Buffer.from(text))},${Buffer.byteLength(text)}`);
    }
    record.push(`${distInfo}/RECORD,,`);
    await writeFile(join(sitePackages, distInfo, "RECORD"), `${record.join("\n")}\n`);
  }
  return { sitePackages, files, bytes: written };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      files: { type: "string", default: "1000" },
      mb: { type: "string", default: "100" },
      out: { type: "string", default: "/tmp/cluster-pack-synthetic" },
      seed: { type: "string", default: "1" },
    },
  });
  const result = await generateSynthetic({
    files: Number(values.files),
    bytes: Number(values.mb) * 1e6,
    out: values.out,
    seed: Number(values.seed),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
