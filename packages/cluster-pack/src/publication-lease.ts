import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { posix } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { firstLine } from "@cluster-pack/errors";
import { type FileSystem, isStorageError } from "@cluster-pack/fs";
import { ShippingError } from "./errors.js";
import { isProcessRunning } from "./leftovers.js";
import { readTextFile } from "./storage.js";

/**
 * One publisher per archive path at a time. Two uploads to one path would otherwise interleave their steps and
 * leave the archive of one beside the metadata of the other. The lease is a small file beside the archive,
 * created with `put(…, { overwrite: false })`, which every store makes an atomic create-if-absent (local: a hard
 * link; HDFS: a rename that refuses an existing target; S3: `If-None-Match: *`). Its holder rewrites it every
 * `heartbeatMs`, so a lease whose holder died (SIGKILL, a lost node) goes stale and the next publisher breaks it.
 */
export interface LeaseOptions {
  signal?: AbortSignal | undefined;
  /** How long to wait for another publisher before failing (default 30 min: a multi-GB upload takes a while). */
  waitMs?: number;
  /** A lease this waiter has seen unchanged for this long belongs to a dead publisher (default 2 min). */
  staleMs?: number;
  /** How often the holder rewrites its lease (default 20 s). */
  heartbeatMs?: number;
  /** How often a waiting publisher looks again (default 0.5 s, with jitter). */
  pollMs?: number;
  /** Told once when this publisher starts waiting, with who holds the lease. */
  onWait?: (holder: string) => void;
}

export interface PublicationLease {
  /** Fails with CONCURRENT_UPLOAD when another publisher broke this lease (this one looked dead): publish nothing. */
  assertHeld(): Promise<void>;
  /** Stops the heartbeat and removes the lease if it is still this publisher's. */
  release(): Promise<void>;
}

interface LeaseRecord {
  token: string;
  host: string;
  pid: number;
  acquired: string;
}

/** `<dir>/.<archive name>.lease`: hidden, beside the archive, never mistaken for one. */
export function leasePathOf(archivePath: string): string {
  return posix.join(posix.dirname(archivePath), `.${posix.basename(archivePath)}.lease`);
}

const describe = (record: LeaseRecord | undefined) =>
  record ? `pid ${record.pid} on ${record.host}, since ${record.acquired}` : "an unknown publisher";

async function readLease(fs: FileSystem, path: string): Promise<LeaseRecord | undefined> {
  try {
    const parsed = JSON.parse(await readTextFile(fs, path)) as Partial<LeaseRecord>;
    return typeof parsed.token === "string" &&
      typeof parsed.pid === "number" &&
      typeof parsed.host === "string"
      ? (parsed as LeaseRecord)
      : undefined;
  } catch {
    // Gone meanwhile, or half-visible on a store without atomic small writes: judged by its age instead.
    return undefined;
  }
}

/** Takes the publication lease of `archivePath`, waiting for (or breaking the stale lease of) another publisher. */
export async function acquirePublicationLease(
  fs: FileSystem,
  archivePath: string,
  options: LeaseOptions = {},
): Promise<PublicationLease> {
  const path = leasePathOf(archivePath);
  const uri = fs.toUri(archivePath);
  const waitMs = options.waitMs ?? 30 * 60_000;
  const staleMs = options.staleMs ?? 2 * 60_000;
  const heartbeatMs = options.heartbeatMs ?? 20_000;
  const pollMs = options.pollMs ?? 500;
  const record: LeaseRecord = {
    token: randomBytes(12).toString("hex"),
    host: hostname(),
    pid: process.pid,
    acquired: new Date().toISOString(),
  };
  const body = () => Buffer.from(`${JSON.stringify(record)}\n`);
  const write = (overwrite: boolean) =>
    fs.put(Readable.from([body()]), path, { overwrite, size: body().length });

  const deadline = Date.now() + waitMs;
  let told = false;
  let seen = { version: "", since: Date.now() };
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      await write(false);
      break;
    } catch (error) {
      if (!isStorageError(error, "ALREADY_EXISTS"))
        throw new ShippingError(
          "UPLOAD_FAILED",
          `taking the path for this upload failed: ${isStorageError(error) ? error.detail : firstLine(error)}`,
          { location: uri, cause: error },
        );
    }
    const holder = await readLease(fs, path);
    const info = await fs.stat(path).catch(() => undefined);
    if (!info) continue; // released meanwhile: try again at once
    // Staleness is timed on this machine's clock, from when this waiter last saw the lease change: the store's
    // clock may be minutes off ours, and comparing the two would break live leases.
    const version = `${holder?.token}@${info.modifiedAt?.getTime()}`;
    if (version !== seen.version) seen = { version, since: Date.now() };
    const deadHere = holder !== undefined && holder.host === record.host && !isProcessRunning(holder.pid);
    if (deadHere || Date.now() - seen.since > staleMs) {
      // Its holder is gone: a crash left it. Whoever removes it races fairly for the next create.
      await fs.rm(path).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline)
      throw new ShippingError(
        "CONCURRENT_UPLOAD",
        `another upload is publishing here (${describe(holder)}); waited ${Math.round(waitMs / 1000)} s`,
        { location: uri, hint: `try again later, or remove ${fs.toUri(path)} if that upload is gone` },
      );
    if (!told) {
      options.onWait?.(describe(holder));
      told = true;
    }
    await sleep(pollMs * (0.5 + Math.random()), undefined, options.signal ? { signal: options.signal } : {});
  }

  let lost = false;
  const stillOurs = async () => (await readLease(fs, path))?.token === record.token;
  const heartbeat = setInterval(() => {
    void (async () => {
      if (lost) return;
      if (!(await stillOurs())) {
        lost = true;
        return;
      }
      await write(true).catch(() => {
        // A missed beat is harmless until staleMs passes; the next one tries again.
      });
    })();
  }, heartbeatMs);
  heartbeat.unref();

  return {
    async assertHeld() {
      if (lost || !(await stillOurs())) {
        lost = true;
        throw new ShippingError(
          "CONCURRENT_UPLOAD",
          "another upload took over this path while this one was publishing (this one looked stalled): nothing was published",
          { location: uri, hint: "run the upload again" },
        );
      }
    },
    async release() {
      clearInterval(heartbeat);
      if (!lost && (await stillOurs())) await fs.rm(path).catch(() => undefined);
    },
  };
}
