import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type FileSystem, resolveFileSystem } from "@cluster-pack/fs";
import { type RunningTestStore, testStores } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ABANDONED_AFTER_MS, makeWorkspace, sweepStoreDirectory, sweepWorkspaces } from "../src/leftovers.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-leftovers-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each(testStores)("what killed uploads left on $name", (store) => {
  let running: RunningTestStore;
  let fs: FileSystem;
  let directory: string;

  beforeAll(async () => {
    running = await store.start(root);
    ({ fs, path: directory } = await resolveFileSystem(running.directory, running.fsArgs));
    await fs.mkdir(directory);
  });
  afterAll(async () => {
    await fs?.close?.();
    await running?.stop();
  });

  it("is removed once older than an hour; archives, metadata, leases and young temporaries stay", async () => {
    const names = [
      "env.pex",
      "env.json",
      ".env.pex.lease",
      ".env.pex.0123456789ab.uploading",
      ".env.pex.abcdef012345.partial",
      ".env.pex.a1b2c3d4e5f6._COPYING_",
      ".env.pex.notatemporary",
    ];
    for (const name of names) await fs.put(Readable.from([Buffer.from(name)]), `${directory}/${name}`);
    const listed = async () => (await fs.ls(directory)).map((entry) => entry.name).sort();

    expect(await sweepStoreDirectory(fs, directory)).toEqual([]);
    expect(await listed()).toEqual([...names].sort());

    const anHourLater = Date.now() + ABANDONED_AFTER_MS + 60_000;
    const removed = await sweepStoreDirectory(fs, directory, anHourLater);
    expect(removed.sort()).toEqual(
      [".env.pex.0123456789ab.uploading", ".env.pex.abcdef012345.partial", ".env.pex.a1b2c3d4e5f6._COPYING_"]
        .map((name) => fs.toUri(`${directory}/${name}`))
        .sort(),
    );
    expect(await listed()).toEqual(
      ["env.pex", "env.json", ".env.pex.lease", ".env.pex.notatemporary"].sort(),
    );
  });

  it("is no error in a directory that does not exist yet", async () => {
    expect(
      await sweepStoreDirectory(fs, `${directory}/not-yet`, Date.now() + 2 * ABANDONED_AFTER_MS),
    ).toEqual([]);
  });
});

describe("work directories in TMPDIR", () => {
  it("are removed when the process that made them is gone, and kept while it runs", async () => {
    const temporary = join(root, "tmp");
    await mkdir(temporary);
    const exited = spawn(process.execPath, ["-e", ""]);
    await once(exited, "exit");
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      const ofDead = join(temporary, `cluster-pack-${exited.pid}-upload-x1`);
      const ofLive = join(temporary, `cluster-pack-${sleeper.pid}-upload-x2`);
      const notOurs = join(temporary, `cluster-pack-notapid-x3`);
      for (const path of [ofDead, ofLive, notOurs]) await mkdir(join(path, "inside"), { recursive: true });

      expect(await sweepWorkspaces(temporary)).toEqual([ofDead]);
      expect((await readdir(temporary)).sort()).toEqual(
        [`cluster-pack-${sleeper.pid}-upload-x2`, "cluster-pack-notapid-x3"].sort(),
      );
    } finally {
      sleeper.kill();
    }
  });

  it("are named after this process", async () => {
    const workspace = await makeWorkspace("test");
    try {
      expect(workspace).toMatch(new RegExp(`/cluster-pack-${process.pid}-test-[^/]+$`));
      expect(await sweepWorkspaces(join(workspace, ".."))).not.toContain(workspace);
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});
