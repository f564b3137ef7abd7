import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { type FileSystem, localFileSystem } from "@cluster-pack/fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquirePublicationLease, leasePathOf } from "../src/publication-lease.js";

let root: string;
const fs: FileSystem = localFileSystem();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-lease-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const leaseOf = (holder: { host: string; pid: number }) =>
  `${JSON.stringify({ token: "someone-else", acquired: "2026-01-01T00:00:00.000Z", ...holder })}\n`;

describe("the publication lease", () => {
  it("is a hidden file beside the archive while held, and gone once released", async () => {
    const archive = join(root, "held", "env.pex");
    await fs.mkdir(join(root, "held"));
    const lease = await acquirePublicationLease(fs, archive);
    expect(leasePathOf(archive)).toBe(join(root, "held", ".env.pex.lease"));
    expect(JSON.parse(await readFile(leasePathOf(archive), "utf8"))).toMatchObject({ pid: process.pid });
    await lease.assertHeld();
    await lease.release();
    expect(await fs.exists(leasePathOf(archive))).toBe(false);
  });

  it("is taken at once from a process of this host that is gone", async () => {
    const archive = join(root, "dead", "env.pex");
    await fs.mkdir(join(root, "dead"));
    const exited = spawn(process.execPath, ["-e", ""]);
    await once(exited, "exit");
    await writeFile(leasePathOf(archive), leaseOf({ host: hostname(), pid: exited.pid ?? 0 }));
    const started = Date.now();
    const lease = await acquirePublicationLease(fs, archive, { staleMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    await lease.release();
  });

  it("waits for a live holder, then fails in one line naming it", async () => {
    const archive = join(root, "busy", "env.pex");
    await fs.mkdir(join(root, "busy"));
    const holder = await acquirePublicationLease(fs, archive, { heartbeatMs: 100 });
    const waits: string[] = [];
    const waiting = acquirePublicationLease(fs, archive, {
      waitMs: 1_000,
      pollMs: 50,
      staleMs: 600,
      onWait: (who) => waits.push(who),
    });
    await expect(waiting).rejects.toMatchObject({ code: "CONCURRENT_UPLOAD" });
    await expect(waiting).rejects.toThrow(
      /another upload is publishing here \(pid \d+ on .+, since .+\); waited 1 s$/,
    );
    expect(waits).toHaveLength(1);
    await holder.release();
  });

  it("is taken once released by the holder it waited for", async () => {
    const archive = join(root, "handover", "env.pex");
    await fs.mkdir(join(root, "handover"));
    const first = await acquirePublicationLease(fs, archive);
    const second = acquirePublicationLease(fs, archive, { pollMs: 50 });
    setTimeout(() => void first.release(), 300);
    const lease = await second;
    await lease.assertHeld();
    await lease.release();
  });

  it("is broken once unchanged for staleMs, and its former holder then publishes nothing", async () => {
    const archive = join(root, "stale", "env.pex");
    await fs.mkdir(join(root, "stale"));
    // A holder that stopped beating (heartbeat far away): to a waiter, it looks dead.
    const stalled = await acquirePublicationLease(fs, archive, { heartbeatMs: 3_600_000 });
    const taker = await acquirePublicationLease(fs, archive, { staleMs: 300, pollMs: 50 });
    await taker.assertHeld();
    await expect(stalled.assertHeld()).rejects.toMatchObject({ code: "CONCURRENT_UPLOAD" });
    await stalled.release();
    expect(await fs.exists(leasePathOf(archive))).toBe(true);
    await taker.release();
    expect(await fs.exists(leasePathOf(archive))).toBe(false);
  });

  it("stops waiting when cancelled", async () => {
    const archive = join(root, "cancelled", "env.pex");
    await fs.mkdir(join(root, "cancelled"));
    const holder = await acquirePublicationLease(fs, archive);
    const controller = new AbortController();
    const waiting = acquirePublicationLease(fs, archive, { signal: controller.signal, pollMs: 50 });
    setTimeout(() => controller.abort(), 200);
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    await holder.release();
  });
});
