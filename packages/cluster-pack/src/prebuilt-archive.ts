import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type EntryRisk,
  listTar,
  listZip,
  type RiskyEntry,
  riskyTarEntries,
  riskyZipEntries,
} from "@cluster-pack/archive";
import type { ArchiveFormat } from "@cluster-pack/env-usage";
import { firstLine, sanitizeLine } from "@cluster-pack/errors";
import { isStorageError, type StorageOptions } from "@cluster-pack/fs";
import { ShippingError } from "./errors.js";
import { resolveStorage } from "./storage.js";

const isHttp = (location: string) => /^https?:\/\//i.test(location);

/** Copies a prebuilt archive (http(s), or any storage URI) to a local file, streaming. */
export async function downloadArchive(
  location: string,
  localPath: string,
  fsArgs: StorageOptions = {},
): Promise<void> {
  if (isHttp(location)) {
    const partial = `${localPath}.partial`;
    try {
      const response = await fetch(location);
      if (!response.ok || !response.body)
        throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
      await pipeline(
        Readable.fromWeb(response.body as import("node:stream/web").ReadableStream),
        createWriteStream(partial),
      );
      await rename(partial, localPath);
    } catch (error) {
      await rm(partial, { force: true });
      throw new ShippingError("DOWNLOAD_FAILED", `download failed: ${firstLine(error)}`, {
        location,
        cause: error,
      });
    }
    return;
  }
  const { fs, path } = await resolveStorage(location, fsArgs);
  try {
    await fs.get(path, localPath);
  } catch (error) {
    throw new ShippingError(
      "DOWNLOAD_FAILED",
      `download failed: ${isStorageError(error) ? error.detail : firstLine(error)}`,
      { location, cause: error },
    );
  } finally {
    await fs.close?.();
  }
}

/** The requirements a zipapp's PEX-INFO lists, read with Python's own zipfile (no zip reader of ours needed). */
export function readPexRequirements(python: string, archive: string): Promise<string[] | undefined> {
  const script =
    "import json, sys, zipfile\n" +
    "info = json.loads(zipfile.ZipFile(sys.argv[1]).read('PEX-INFO'))\n" +
    "print(json.dumps(info.get('requirements', [])))\n";
  return new Promise((resolve) => {
    execFile(python, ["-c", script, archive], (error, stdout) => {
      if (error) return resolve(undefined);
      try {
        resolve(JSON.parse(stdout) as string[]);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/**
 * Which packer made a prebuilt venv or conda archive, from its entries: a conda environment has `conda-meta/`.
 * Both hold the environment's files at their root (as we, conda-pack and venv-pack write them), where the cluster
 * runs `environment/bin/python`: an archive without `bin/python` there is refused.
 */
export async function packerOfEnvironmentArchive(
  archive: string,
  format: ArchiveFormat,
  location: string,
): Promise<"venv" | "conda"> {
  let names: string[];
  try {
    const entries = format === "zip" ? (await listZip(archive)).entries : await listTar(archive);
    names = entries.map((entry) => entry.name.replace(/^\.\//, ""));
  } catch (error) {
    throw new ShippingError("INVALID_ARGUMENT", `not a readable ${format} archive: ${firstLine(error)}`, {
      location,
      cause: error,
    });
  }
  if (!names.includes("bin/python"))
    throw new ShippingError(
      "INVALID_ARGUMENT",
      "not a venv or conda archive: no bin/python at its root, which the cluster runs as environment/bin/python",
      { location },
    );
  return names.some((name) => name.startsWith("conda-meta/")) ? "conda" : "venv";
}

const riskDescriptions: Record<EntryRisk, string> = {
  traversal: "has a .. component, which would write outside the extraction directory",
  absolute: "is an absolute path, which would write outside the extraction directory",
  symlink: "is a link that leaves the archive, or lies beneath a link",
};

/**
 * One warning line per entry of a prebuilt archive that the nodes refuse (the zipapp bootstrap) or that would
 * escape where `tar`/`unzip` unpack it: path traversal, absolute names, links leaving the archive.
 */
export async function riskyEntryWarnings(archive: string, format: ArchiveFormat): Promise<string[]> {
  let risky: RiskyEntry[];
  try {
    risky = format === "tar.gz" ? await riskyTarEntries(archive) : await riskyZipEntries(archive);
  } catch (error) {
    // The name says the format, and the archive is shipped as the user made it; but say it looks broken.
    return [
      `its entries cannot be read as a ${format} archive (${sanitizeLine(firstLine(error))}): the nodes may not run it`,
    ];
  }
  return risky.map(
    ({ name, reason }) =>
      `entry "${sanitizeLine(name)}" ${riskDescriptions[reason]}: the nodes may refuse this archive`,
  );
}
