import { readFile } from "node:fs/promises";
import { firstLine } from "@cluster-pack/errors";
import { parse } from "yaml";
import { PythonEnvError } from "./errors.js";

/** The parts of a conda `environment.yml` that matter for packing. */
export interface CondaEnvironmentFile {
  name?: string;
  channels: string[];
  /** Conda match specs (`python=3.11`, `numpy>=1.26`). */
  dependencies: string[];
  /** The nested `- pip: [...]` requirements. */
  pipRequirements: string[];
}

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === "string");

/** Reads and checks an `environment.yml`; a malformed one is an `INVALID_ARGUMENT` naming the file. */
export async function readCondaEnvironmentFile(path: string): Promise<CondaEnvironmentFile> {
  const invalid = (detail: string, cause?: unknown) =>
    new PythonEnvError("INVALID_ARGUMENT", detail, { location: path, ...(cause !== undefined && { cause }) });
  let document: unknown;
  try {
    document = parse(await readFile(path, "utf8"));
  } catch (error) {
    const detail =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : firstLine(error, 160);
    throw invalid(`not a readable conda environment file: ${detail}`, error);
  }
  if (typeof document !== "object" || document === null || !("dependencies" in document))
    throw invalid("not a conda environment file: it has no dependencies list");
  const { name, channels = [], dependencies } = document as Record<string, unknown>;
  if (!isStringList(channels)) throw invalid("channels must be a list of channel names");
  if (!Array.isArray(dependencies)) throw invalid("dependencies must be a list");
  const specs: string[] = [];
  const pipRequirements: string[] = [];
  for (const dependency of dependencies) {
    if (typeof dependency === "string") specs.push(dependency);
    else if (
      typeof dependency === "object" &&
      dependency !== null &&
      isStringList((dependency as { pip?: unknown }).pip)
    )
      pipRequirements.push(...(dependency as { pip: string[] }).pip);
    else throw invalid(`unexpected dependency entry ${JSON.stringify(dependency)}`);
  }
  return {
    ...(typeof name === "string" && { name }),
    channels,
    dependencies: specs,
    pipRequirements,
  };
}
