import { rm } from "node:fs/promises";
import { join } from "node:path";
import { sanitizeLine } from "@cluster-pack/errors";
import type { StorageOptions } from "@cluster-pack/fs";
import {
  failureSummary,
  type VerifyArchiveOptions,
  VerifyError,
  type VerifyReport,
  verifiableFormatOf,
  verifyArchive as verifyLocalArchive,
} from "@cluster-pack/verify";
import { makeWorkspace } from "./leftovers.js";
import { withLocalArchive } from "./local-archive.js";

export interface VerifyEnvOptions extends Omit<VerifyArchiveOptions, "displayName"> {
  /** Options for the storage adapters, to download a stored archive. */
  fsArgs?: StorageOptions;
}

/**
 * Runs an archive (a local path or a stored URI, downloaded first) as a node would and reports, per top-level
 * module, whether it imports and which native libraries it misses; `ok` is false when anything fails.
 */
export async function verifyArchive(location: string, options: VerifyEnvOptions = {}): Promise<VerifyReport> {
  const { fsArgs, ...verifyOptions } = options;
  verifiableFormatOf(location);
  return withLocalArchive(
    location,
    { ...(fsArgs && { fsArgs }), ...(options.signal && { signal: options.signal }) },
    (localPath) => verifyLocalArchive(localPath, { ...verifyOptions, displayName: location }),
  );
}

/** `uploadEnv({ verify })`: `true`, or how to run the check (the nodes' Python, the import timeout). */
export type VerifyBeforePublishing =
  | boolean
  | Pick<VerifyArchiveOptions, "python" | "timeoutMs" | "concurrency">;

/**
 * Throws `VerifyError` `BROKEN_ENVIRONMENT`, naming what fails, when the local archive `file` does not work where
 * it would be published at `location`; returns the passing report otherwise.
 */
export async function refuseBrokenArchive(
  file: string,
  location: string,
  verify: Exclude<VerifyBeforePublishing, false>,
  signal?: AbortSignal,
): Promise<VerifyReport> {
  const report = await verifyLocalArchive(file, {
    ...(verify === true ? {} : verify),
    ...(signal && { signal }),
    displayName: location,
  });
  if (report.ok) return report;
  throw new VerifyError(
    "BROKEN_ENVIRONMENT",
    `not published: the packed environment fails: ${failureSummary(report)}`,
    {
      location: sanitizeLine(location),
      report,
    },
  );
}

/**
 * Packs into a local work file (publication otherwise streams while packing), verifies it, and only then hands it
 * to `publish`: a broken environment never reaches the store. The work file is removed either way.
 */
export async function publishVerified<Packed extends { sha256: string }, Published>(options: {
  /** The archive's file name (its extension says the format). */
  name: string;
  /** Where it will be published, for messages. */
  location: string;
  verify: Exclude<VerifyBeforePublishing, false>;
  signal?: AbortSignal | undefined;
  pack: (output: string) => Promise<Packed>;
  publish: (archive: { file: string; sha256: string }) => Promise<Published>;
}): Promise<{ packed: Packed; published: Published }> {
  const workspace = await makeWorkspace("verify");
  try {
    const file = join(workspace, options.name);
    const packed = await options.pack(file);
    await refuseBrokenArchive(file, options.location, options.verify, options.signal);
    return { packed, published: await options.publish({ file, sha256: packed.sha256 }) };
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}
