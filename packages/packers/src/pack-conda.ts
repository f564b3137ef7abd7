import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync, realpathSync } from "node:fs";
import { isAbsolute, join, posix, relative, resolve } from "node:path";
import type { ArchiveEntry } from "@cluster-pack/archive";
import { type Interpreter, readDistributions } from "@cluster-pack/python-env";
import { readCondaRecords } from "./conda-records.js";
import { type EditableInArchive, planEditables } from "./editables-in-archive.js";
import {
  type EnvArchiveOptions,
  environmentTree,
  type PackedEnvArchive,
  resolveFormat,
  writeEnvArchive,
} from "./env-archive.js";
import { PackerError } from "./errors.js";
import { isNoRoom, looksLikeText, replaceInBinary, replaceInText } from "./prefix-replacement.js";
import { packedPthFile } from "./pth-file.js";
import { relocatableShebang, relocateScript, relocationFile } from "./relocatable-scripts.js";

export interface PackCondaOptions extends EnvArchiveOptions {
  /** The probed interpreter of the conda environment: its prefix is packed, its site-packages read for pip's files. */
  interpreter: Pick<Interpreter, "prefix" | "sitePackages">;
  /**
   * The absolute path the archive will be unpacked at: placeholders are replaced with it while packing and no
   * unpack step is shipped (conda-pack's `--dest-prefix`). Default: relocatable, with `bin/conda-unpack`.
   */
  destPrefix?: string;
  /** Bake editable installs' code into site-packages (default false: it ships as the separate editable zips). */
  includeEditable?: boolean;
}

/** A conda-managed file that pip installed over (or a later change rewrote): it ships as it is now. */
export interface ClobberedFile {
  path: string;
  /** The conda package that installed it. */
  condaPackage: string;
  /** The pip distribution whose RECORD lists it; absent when only its content says it changed. */
  distribution?: string;
}

export interface PackedConda extends PackedEnvArchive {
  editables: EditableInArchive[];
  clobbered: ClobberedFile[];
  /** Files conda installed that are gone (pip uninstalled them, most often): the archive cannot have them either. */
  missing: { path: string; condaPackage: string }[];
  /** Files that hold placeholders for `bin/conda-unpack` to fill (0 with `destPrefix`). */
  prefixRecords: number;
  destPrefix?: string;
}

/** conda's placeholder for text files (split so that conda never rewrites this file if it installs it). */
const TEXT_PLACEHOLDER = `/opt/anaconda1anaconda2${"anaconda3"}`;

/** Top-level entries of a prefix that are not part of the environment (conda-pack leaves out the same). */
const notEnvironment = new Set([
  "pkgs",
  "envs",
  "conda-bld",
  ".conda_lock",
  "users",
  "conda-recipes",
  ".index",
  ".unionfs",
  ".nonadmin",
]);
/** Scripts older condas put into environments on activation, pointing at the base installation. */
const activationLeftovers = new Set(["bin/conda", "bin/deactivate"]);
const RECORDS_FILE = "share/cluster-pack/prefix-records.json";
/** Replaced by ours, relocatable, whoever installed them; `share/cluster-pack` also holds an earlier unpack's state. */
const shippedByUs = new Set(["bin/activate", "bin/conda-unpack", "share/cluster-pack"]);

const sha256Of = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** Whether a file holds any of `needles`, read in chunks: an environment may keep multi-GB data files. */
function fileMentions(path: string, needles: readonly Buffer[]): boolean {
  const overlap = Math.max(...needles.map((needle) => needle.length)) - 1;
  const chunk = Buffer.alloc(8 << 20);
  const descriptor = openSync(path, "r");
  try {
    let carried = 0;
    for (let position = 0; ; ) {
      const read = readSync(descriptor, chunk, carried, chunk.length - carried, position);
      if (read === 0) return false;
      const view = chunk.subarray(0, carried + read);
      if (needles.some((needle) => view.includes(needle))) return true;
      position += read;
      carried = Math.min(overlap, view.length);
      chunk.copyWithin(0, view.length - carried, view.length);
    }
  } finally {
    closeSync(descriptor);
  }
}

function startsWithShebang(path: string): boolean {
  const head = Buffer.alloc(2);
  const descriptor = openSync(path, "r");
  try {
    return readSync(descriptor, head, 0, 2, 0) === 2 && head.toString("latin1") === "#!";
  } finally {
    closeSync(descriptor);
  }
}

type Replacement = { placeholder: string; mode: "text" | "binary" };

/**
 * Packs a conda environment into a relocatable `.tar.gz` or `.zip`, conda-pack style: the files conda-meta lists
 * plus everything else in the prefix (pip's installs), no bytecode. Files embedding the environment's path are
 * packed holding their conda placeholders again (the path is swapped back, binary strings within their slots),
 * so the archive names no path of this machine; `bin/conda-unpack`, run on the node with the environment's own
 * Python, writes the real path in. Console scripts start the `python` beside them and `bin/activate` is
 * relocatable, so jobs that run `environment/bin/python` work without any unpack step. With `destPrefix` the
 * destination is written in while packing instead. pip's files over conda's are detected and reported.
 */
export async function packConda(options: PackCondaOptions): Promise<PackedConda> {
  resolveFormat(options);
  const prefix = resolve(options.interpreter.prefix);
  const records = await readCondaRecords(prefix);
  const destPrefix = options.destPrefix?.replace(/(.)\/+$/, "$1");
  if (destPrefix !== undefined && !isAbsolute(destPrefix))
    throw new PackerError(
      "INVALID_ARGUMENT",
      `--dest-prefix must be an absolute path, not "${options.destPrefix}"`,
    );
  const prefixes = [...new Set([prefix, realpathSync(prefix)])];
  const warnings: string[] = [];

  const ownerOf = new Map<string, string>();
  const replacements = new Map<string, Replacement & { sha256InPrefix?: string }>();
  for (const record of records) {
    for (const file of record.files) ownerOf.set(posix.normalize(file), record.name);
    if (!record.paths)
      warnings.push(
        `${record.recordFile} has no paths_data (conda older than 4.3): placeholders of ${record.name} are unknown and stay as installed`,
      );
    for (const path of record.paths ?? [])
      if (path.placeholder)
        replacements.set(posix.normalize(path.path), {
          placeholder: path.placeholder,
          mode: path.fileMode ?? "text",
          ...(path.sha256InPrefix && { sha256InPrefix: path.sha256InPrefix }),
        });
  }

  const { distributions } = await readDistributions(options.interpreter.sitePackages);
  const clobbered: ClobberedFile[] = [];
  for (const distribution of distributions) {
    if (distribution.installer === "conda") continue;
    for (const file of distribution.files ?? []) {
      const path = relative(prefix, resolve(distribution.sitePackages, file.path));
      const condaPackage = ownerOf.get(path);
      if (condaPackage && !/\.py[co]$/.test(path))
        clobbered.push({ path, condaPackage, distribution: distribution.normalizedName });
    }
  }
  const editables = await planEditables(prefix, distributions, { bake: options.includeEditable ?? false });
  const siteDirectories = new Set(options.interpreter.sitePackages.map((site) => resolve(site)));
  const inSitePackages = (path: string) => {
    for (const site of siteDirectories) if (path.startsWith(`${site}/`)) return true;
    return false;
  };

  const unpackRecords: [path: string, placeholder: string, mode: "text" | "binary"][] = [];
  /** Swaps the environment's path back to the placeholder (and to `destPrefix` when given). */
  const relocate = (name: string, data: Buffer, replacement: Replacement): Buffer => {
    let restored = data;
    for (const root of prefixes) {
      const swapped =
        replacement.mode === "text"
          ? replaceInText(restored, root, replacement.placeholder)
          : replaceInBinary(restored, root, replacement.placeholder);
      if (isNoRoom(swapped)) {
        warnings.push(
          `${name}: holds the environment's path without the padding conda leaves after it, so it cannot be relocated and still names ${root}`,
        );
        return data;
      }
      restored = swapped;
    }
    if (!restored.includes(Buffer.from(replacement.placeholder))) return restored;
    if (destPrefix === undefined) {
      unpackRecords.push([name, replacement.placeholder, replacement.mode]);
      return restored;
    }
    const placed =
      replacement.mode === "text"
        ? replaceInText(restored, replacement.placeholder, destPrefix)
        : replaceInBinary(restored, replacement.placeholder, destPrefix);
    if (isNoRoom(placed))
      throw new PackerError(
        "UNRELOCATABLE",
        `--dest-prefix ${destPrefix} is ${Buffer.byteLength(destPrefix)} bytes long, but ${name} has room for a path of ${Buffer.byteLength(replacement.placeholder)} bytes: choose a shorter destination`,
        { path: join(prefix, name) },
      );
    return placed;
  };
  const prefixNeedles = prefixes.map((root) => Buffer.from(root));
  const mentionsPrefix = (data: Buffer) => prefixNeedles.some((root) => data.includes(root));
  const recordsByFile = new Map(records.map((record) => [record.recordFile, record]));

  const present = new Set<string>();
  const isLeftOut = (name: string) =>
    notEnvironment.has(name) ||
    (activationLeftovers.has(name) && !ownerOf.has(name)) ||
    shippedByUs.has(name) ||
    editables.isLeftOut(join(prefix, name));
  const entries: ArchiveEntry[] = environmentTree(prefix, isLeftOut).map((entry): ArchiveEntry => {
    present.add(entry.name);
    if (entry.kind !== "file") return entry;
    const path = join(prefix, entry.name);
    const mode = entry.mode ?? 0o644;
    const buffer = (data: Buffer): ArchiveEntry => ({ kind: "buffer", name: entry.name, data, mode });
    const replaced = editables.replaced.get(path);
    if (replaced) return buffer(replaced);
    const record = recordsByFile.get(entry.name);
    if (record) return buffer(record.shipped);

    const inBin = /^bin\/[^/]+$/.test(entry.name);
    const managed = replacements.get(entry.name);
    const ownedByConda = ownerOf.has(entry.name);
    // conda's files say whether they hold its path; in bin/ only a shebang may (noarch entry points lack records).
    if (!managed && ownedByConda && inBin && !startsWithShebang(path)) return entry;
    if (!managed && !inBin && (ownedByConda || inSitePackages(path))) {
      if (entry.name.endsWith(".pth") && siteDirectories.has(posix.dirname(path))) {
        return buffer(packedPthFile(entry.name, path, prefixes, warnings));
      }
      return entry;
    }
    if (!managed && !inBin && !fileMentions(path, prefixNeedles)) return entry;
    const original = readFileSync(path);
    if (managed?.sha256InPrefix && sha256Of(original) !== managed.sha256InPrefix) {
      if (!clobbered.some((file) => file.path === entry.name))
        clobbered.push({ path: entry.name, condaPackage: ownerOf.get(entry.name) ?? "" });
    } else if (managed) {
      const data =
        inBin && managed.mode === "text" ? (relocateScript(original, prefixes) ?? original) : original;
      return buffer(relocate(entry.name, data, managed));
    }
    // Not conda's, or changed since conda wrote it: shebangs are made relocatable, other mentions of the
    // environment's path in text get conda's text placeholder; binaries cannot be rewritten safely.
    const script = inBin ? relocateScript(original, prefixes) : undefined;
    const data = script ?? original;
    if (!mentionsPrefix(data)) return script ? buffer(script) : entry;
    if (!looksLikeText(data)) {
      warnings.push(
        `${entry.name}: a binary file naming the environment's path (${prefix}), which cannot be relocated`,
      );
      return entry;
    }
    return buffer(relocate(entry.name, data, { placeholder: TEXT_PLACEHOLDER, mode: "text" }));
  });

  // Files this packer leaves out itself (conda's bin/activate, replaced by ours) are not gone.
  const isLeftOutWithin = (name: string) => {
    for (let path = name; path !== "."; path = posix.dirname(path)) if (isLeftOut(path)) return true;
    return false;
  };
  const missing = [...ownerOf]
    .filter(([path]) => !present.has(path) && !/\.py[co]$/.test(path) && !isLeftOutWithin(path))
    .map(([path, condaPackage]) => ({ path, condaPackage }));
  for (const file of clobbered)
    warnings.push(
      file.distribution
        ? `${file.path}: installed by conda (${file.condaPackage}) and overwritten by pip (${file.distribution}); the archive has pip's version`
        : `${file.path}: installed by conda (${file.condaPackage}) and changed since; it ships as it is now`,
    );
  const missingByPackage = new Map<string, string[]>();
  for (const file of missing)
    missingByPackage.set(file.condaPackage, [...(missingByPackage.get(file.condaPackage) ?? []), file.path]);
  for (const [condaPackage, paths] of missingByPackage)
    warnings.push(
      `${condaPackage}: ${paths.length} file(s) conda installed are gone (pip uninstalled or replaced them?), e.g. ${paths[0]}; check with conda list`,
    );

  entries.push({ kind: "buffer", name: "bin/activate", data: relocationFile("activate"), mode: 0o644 });
  if (destPrefix === undefined) {
    unpackRecords.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    entries.push(
      {
        kind: "buffer",
        name: "bin/conda-unpack",
        data: Buffer.concat([
          Buffer.from(relocatableShebang("python", "")),
          relocationFile("conda-unpack.py"),
        ]),
        mode: 0o755,
      },
      {
        kind: "buffer",
        name: RECORDS_FILE,
        data: Buffer.from(`${JSON.stringify({ version: 1, records: unpackRecords }, null, 1)}\n`),
      },
    );
  }
  entries.push(...editables.added);

  const packed = await writeEnvArchive(entries, { ...options, prefix, warnings });
  return {
    ...packed,
    editables: editables.editables,
    clobbered,
    missing,
    prefixRecords: unpackRecords.length,
    ...(destPrefix !== undefined && { destPrefix }),
  };
}
