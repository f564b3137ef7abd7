import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { firstLine, sanitizeLine } from "@cluster-pack/errors";
import { errnoOf } from "./errno.js";
import { PythonEnvError } from "./errors.js";

/** A package conda installed, from its `conda-meta/*.json` record (Python packages and native libraries alike). */
export interface CondaPackage {
  name: string;
  version: string;
  build: string;
  channel?: string;
  /** Installed paths relative to the prefix. */
  files: string[];
}

/** The conda records of a prefix; empty when it has no `conda-meta` (not a conda env). */
export async function listCondaPackages(prefix: string): Promise<CondaPackage[]> {
  const directory = join(prefix, "conda-meta");
  let entries: string[];
  try {
    entries = (await readdir(directory)).filter((entry) => entry.endsWith(".json")).sort();
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return [];
    throw new PythonEnvError(
      "UNREADABLE_ENVIRONMENT",
      `cannot read conda-meta: ${sanitizeLine(firstLine(error))}`,
      {
        location: sanitizeLine(directory),
        cause: error,
      },
    );
  }
  const records = await Promise.all(
    entries.map(async (entry) => {
      const path = join(directory, entry);
      try {
        const record = JSON.parse(await readFile(path, "utf8")) as Partial<CondaPackage>;
        if (typeof record.name !== "string" || typeof record.version !== "string")
          throw new Error("no name/version");
        return {
          name: record.name,
          version: record.version,
          build: record.build ?? "",
          files: record.files ?? [],
          ...(record.channel && { channel: record.channel }),
        };
      } catch (error) {
        throw new PythonEnvError(
          "BROKEN_DISTRIBUTION",
          `not a conda package record: ${sanitizeLine(firstLine(error, 160))}`,
          {
            location: sanitizeLine(path),
            cause: error,
          },
        );
      }
    }),
  );
  return records.sort((a, b) => (a.name < b.name ? -1 : 1));
}
