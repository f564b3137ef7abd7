#!/usr/bin/env node
// A storage round trip through resolveFileSystem: put (with progress), stat, ls, get, verify, rename, rm.
// Usage: node demo.mjs [store URI]   (default: the embedded local store; s3://, hdfs://… with their adapters)
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { embeddedStorePath, isStorageError, resolveFileSystem } from "@cluster-pack/fs";

const sizeBytes = 25 * 1024 * 1024;
const storeUri = (process.argv[2] ?? embeddedStorePath()).replace(/\/+$/, "");

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function sha256(path) {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest("hex");
}

function progressPrinter(label) {
  const started = performance.now();
  return {
    onProgress({ transferredBytes, totalBytes }) {
      if (!process.stdout.isTTY) return;
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? `${mib(transferredBytes / seconds)}/s` : "";
      process.stdout.write(`\r  ${label} ${mib(transferredBytes)} / ${mib(totalBytes ?? 0)} ${rate}   `);
    },
    done() {
      const seconds = (performance.now() - started) / 1000;
      if (process.stdout.isTTY) process.stdout.write("\r\x1b[K");
      console.log(`  ${label} ${mib(sizeBytes)} in ${seconds.toFixed(2)} s (${mib(sizeBytes / seconds)}/s)`);
    },
  };
}

async function main() {
  const scratch = await mkdtemp(join(tmpdir(), "cluster-pack-demo-"));
  try {
    const local = join(scratch, "env.pex");
    await writeFile(local, randomBytes(sizeBytes));
    const { fs, path } = await resolveFileSystem(`${storeUri}/demo/env.pex`);
    console.log(`store: ${storeUri} (${fs.scheme})`);

    const upload = progressPrinter("put");
    await fs.put(local, path, { onProgress: upload.onProgress });
    upload.done();

    const info = await fs.stat(path);
    console.log(`  stat ${fs.toUri(path)}: ${info.type}, ${info.size} bytes`);
    const parent = path.slice(0, path.lastIndexOf("/"));
    console.log(`  ls: ${(await fs.ls(parent)).map((entry) => entry.name).join(", ")}`);

    const download = progressPrinter("get");
    const copy = join(scratch, "copy.pex");
    await fs.get(path, copy, { onProgress: download.onProgress });
    download.done();
    const same = (await sha256(copy)) === (await sha256(local));
    console.log(`  downloaded copy is ${same ? "byte-identical" : "DIFFERENT"}`);

    const renamed = `${parent}/renamed.pex`;
    await fs.rename(path, renamed, { overwrite: true });
    await fs.rm(renamed);
    console.log(
      `  renamed and removed; ${fs.toUri(parent)} now holds ${(await fs.ls(parent)).length} entries`,
    );
    await fs.close?.();
    if (!same) process.exitCode = 1;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(
    `error: ${isStorageError(error) ? error.message : error instanceof Error ? error.message : error}`,
  );
  process.exitCode = 1;
});
