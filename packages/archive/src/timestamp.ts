import { ArchiveError } from "./errors.js";

/** 1980-01-01T00:00:00Z: the earliest time a ZIP (MS-DOS) timestamp can hold, our default for every entry. */
export const DEFAULT_EPOCH_SECONDS = 315_532_800;

/**
 * The fixed time stamped on every entry, in seconds since 1970: `explicit` if given, else `SOURCE_DATE_EPOCH`
 * (reproducible-builds.org), else 1980-01-01 00:00 UTC. Never the files' own mtimes, so touching a file does not
 * change the archive.
 */
export function resolveEpochSeconds(explicit: number | undefined, env = process.env): number {
  if (explicit !== undefined) {
    if (!Number.isInteger(explicit) || explicit < 0) {
      throw new ArchiveError(
        "INVALID_ARGUMENT",
        `sourceDateEpoch must be a non-negative integer, got ${explicit}`,
      );
    }
    return explicit;
  }
  const fromEnv = env.SOURCE_DATE_EPOCH;
  if (fromEnv === undefined || fromEnv === "") return DEFAULT_EPOCH_SECONDS;
  if (!/^\d+$/.test(fromEnv)) {
    throw new ArchiveError(
      "INVALID_ARGUMENT",
      `SOURCE_DATE_EPOCH must be an integer number of seconds, got "${fromEnv}"`,
    );
  }
  return Number(fromEnv);
}

/**
 * MS-DOS date and time (APPNOTE 4.4.6) of `epochSeconds`, read in UTC so the bytes do not depend on the machine's
 * timezone. DOS time counts seconds in units of two and years from 1980 to 2107: values outside are clamped.
 */
export function dosDateTime(epochSeconds: number): { date: number; time: number } {
  const latest = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;
  const clamped = Math.min(Math.max(epochSeconds, DEFAULT_EPOCH_SECONDS), latest);
  const d = new Date(clamped * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  return { date, time };
}
