import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream } from "node:stream/web";
import { fileURLToPath } from "node:url";
import { redactUrlCredentials, sanitizeLine } from "@cluster-pack/errors";
import { PythonEnvError } from "./errors.js";

/**
 * Where wheels are kept by sha256 between packs, so a lock replays offline: `$XDG_CACHE_HOME/cluster-pack/wheels`,
 * else `~/.cache/cluster-pack/wheels` (the rule of the packers' bytecode cache). A cache, not temporary files:
 * removing it costs only downloads.
 */
export function wheelCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cache, "cluster-pack", "wheels");
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

const isHexSha256 = (value: string) => /^[0-9a-f]{64}$/.test(value);

/** The cached copy of a wheel: `<cache>/<sha256>/<file name>`. */
export function cachedWheelPath(cacheDirectory: string, sha256: string, file: string): string {
  if (!isHexSha256(sha256) || file.includes("/") || file.startsWith("."))
    throw new PythonEnvError(
      "INVALID_ARGUMENT",
      `not a wheel's sha256 and file name: ${sanitizeLine(`${sha256} ${file}`)}`,
    );
  return join(cacheDirectory, sha256, file);
}

/** The cached wheel when it is there and still has its sha256 (a damaged copy is removed), else undefined. */
export async function findCachedWheel(
  cacheDirectory: string,
  sha256: string,
  file: string,
): Promise<string | undefined> {
  const path = cachedWheelPath(cacheDirectory, sha256, file);
  const exists = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!exists) return undefined;
  if ((await sha256OfFile(path)) === sha256) return path;
  await rm(path, { force: true });
  return undefined;
}

/** The bytes behind a wheel URL: `file://` read locally, `http(s)://` fetched. */
async function fetchInto(url: string, destination: string, signal?: AbortSignal): Promise<void> {
  const parsed = new URL(url);
  if (parsed.protocol === "file:") {
    await copyFile(fileURLToPath(parsed), destination);
    return;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new PythonEnvError("INVALID_ARGUMENT", `cannot download ${sanitizeLine(parsed.protocol)} URLs`, {
      location: redactUrlCredentials(url),
    });
  const response = await fetch(parsed, signal ? { signal } : {}).catch((error: unknown) => {
    throw new PythonEnvError("RESOLUTION_FAILED", `download failed: ${sanitizeLine(String(error))}`, {
      location: redactUrlCredentials(url),
      cause: error,
    });
  });
  if (!response.ok || !response.body)
    throw new PythonEnvError("RESOLUTION_FAILED", `download failed: HTTP ${response.status}`, {
      location: redactUrlCredentials(url),
    });
  // Streamed to disk: a GPU wheel is gigabytes, more than one buffer may hold.
  await pipeline(
    Readable.fromWeb(response.body as ReadableStream<Uint8Array>),
    createWriteStream(destination),
  ).catch((error: unknown) => {
    throw new PythonEnvError("RESOLUTION_FAILED", `download failed: ${sanitizeLine(String(error))}`, {
      location: redactUrlCredentials(url),
      cause: error,
    });
  });
}

/**
 * Puts a wheel into the cache from its URL, checking its sha256 (when known: the lock's, the index's) before it
 * gets its final name, so an interrupted or wrong download never looks cached. Returns the cached path and sha256.
 */
export async function cacheWheel(options: {
  cacheDirectory: string;
  url: string;
  file: string;
  sha256?: string;
  signal?: AbortSignal;
}): Promise<{ path: string; sha256: string }> {
  await mkdir(options.cacheDirectory, { recursive: true });
  const partial = join(options.cacheDirectory, `.${options.file}.${randomBytes(6).toString("hex")}.partial`);
  try {
    await fetchInto(options.url, partial, options.signal);
    const actual = await sha256OfFile(partial);
    if (options.sha256 !== undefined && actual !== options.sha256)
      throw new PythonEnvError(
        "RESOLUTION_FAILED",
        `${sanitizeLine(options.file)} has sha256 ${actual}, not the expected ${options.sha256}: the index serves other bytes than it did (or the lock is stale)`,
        { location: redactUrlCredentials(options.url) },
      );
    const path = cachedWheelPath(options.cacheDirectory, actual, options.file);
    await mkdir(join(options.cacheDirectory, actual), { recursive: true });
    await rename(partial, path);
    return { path, sha256: actual };
  } finally {
    await rm(partial, { force: true });
  }
}
