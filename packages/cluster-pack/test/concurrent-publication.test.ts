import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metadataPathOf } from "@cluster-pack/env-usage";
import { type FileSystem, resolveFileSystem } from "@cluster-pack/fs";
import {
  buildWheel,
  createVenv,
  machinePython,
  pipInstall,
  type RunningTestStore,
  testStores,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArchiveMetadata } from "../src/archive-metadata.js";
import { isShippingError, uploadEnv } from "../src/index.js";
import { leasePathOf } from "../src/publication-lease.js";

const ROUNDS = 20;

let root: string;
let alpha: Venv;
let beta: Venv;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-concurrent-"));
  const wheels = join(root, "wheels");
  for (const name of ["alphapkg", "betapkg"])
    await buildWheel(
      { name, version: "1.0", files: { [`${name}/__init__.py`]: `NAME = "${name}"\n` } },
      wheels,
    );
  alpha = await createVenv(machinePython, join(root, "venv-alpha"));
  beta = await createVenv(machinePython, join(root, "venv-beta"));
  await pipInstall(alpha, ["alphapkg"], [wheels]);
  await pipInstall(beta, ["betapkg"], [wheels]);
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function sha256Of(fs: FileSystem, path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of await fs.open(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describe.each(testStores)("concurrent uploads to one path on $name", (store) => {
  let running: RunningTestStore;
  let fs: FileSystem;
  let directory: string;

  beforeAll(async () => {
    running = await store.start(root);
    ({ fs, path: directory } = await resolveFileSystem(running.directory, running.fsArgs));
  });

  afterAll(async () => {
    await fs?.close?.();
    await running?.stop();
  });

  it(`two different environments, ${ROUNDS} rounds: the archive and the metadata always describe the same bytes`, async () => {
    const packagePath = `${running.directory}/contested.pex`;
    const path = `${directory}/contested.pex`;
    const upload = (venv: Venv) => uploadEnv({ python: venv.python, packagePath, fsArgs: running.fsArgs });
    for (let round = 0; round < ROUNDS; round++) {
      const outcomes = await Promise.allSettled([upload(alpha), upload(beta)]);
      for (const outcome of outcomes)
        if (outcome.status === "rejected")
          expect(isShippingError(outcome.reason, "CONCURRENT_UPLOAD")).toBe(true);
      const metadata = await readArchiveMetadata(fs, path);
      expect(metadata?.sha256).toBe(await sha256Of(fs, path));
      const packages = metadata?.package_installed ?? [];
      expect(packages.some((name) => /^(alphapkg|betapkg)==/.test(name))).toBe(true);
    }
    expect(await fs.exists(leasePathOf(path))).toBe(false);
  }, 300_000);

  it(`four uploads of one environment, ${ROUNDS} rounds: none fails, one packs, the others find it current`, async () => {
    const packagePath = `${running.directory}/shared.pex`;
    const path = `${directory}/shared.pex`;
    for (let round = 0; round < ROUNDS; round++) {
      // Without metadata nothing is current: all four want to publish.
      await fs.rm(metadataPathOf(path)).catch(() => undefined);
      const results = await Promise.all(
        [1, 2, 3, 4].map(() => uploadEnv({ python: alpha.python, packagePath, fsArgs: running.fsArgs })),
      );
      expect(results.filter((result) => result.uploaded)).toHaveLength(1);
      const metadata = await readArchiveMetadata(fs, path);
      expect(metadata?.sha256).toBe(await sha256Of(fs, path));
    }
    expect(await fs.exists(leasePathOf(path))).toBe(false);
  }, 300_000);
});
