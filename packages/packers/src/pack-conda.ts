import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync, realpathSync } from "node:fs";
import { isAbsolute, join, posix, relative, resolve } from "node:path";
import type { ArchiveEntry, FileEntry } from "@cluster-pack/archive";
import { type Distribution, type Interpreter, readDistributions } from "@cluster-pack/python-env";
import { type CondaRecord, readCondaRecords } from "./conda-records.js";
import { type EditableInArchive, type EditablePlan, planEditables } from "./editables-in-archive.js";
import {
  compressionLevelOf,
  type EnvArchiveOptions,
  environmentTree,
  isBytecode,
  type PackedEnvArchive,
  writeEnvArchive,
} from "./env-archive.js";
import { PackerError } from "./errors.js";
import { type ExcludeMatcher, excludeMatcher } from "./exclude-patterns.js";
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

/** A file conda installed that is gone. */
interface MissingFile {
  path: string;
  /** The conda package that installed it. */
  condaPackage: string;
}

export interface PackedConda extends PackedEnvArchive {
  editables: EditableInArchive[];
  clobbered: ClobberedFile[];
  /** Files conda installed that are gone (pip uninstalled them, most often): the archive cannot have them either. */
  missing: MissingFile[];
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

/** How conda wrote the environment's path into a file: in place of `placeholder`, as text or binary. */
type Replacement = { placeholder: string; mode: "text" | "binary" };
/** A conda file's replacement, with the sha256 conda left the file with: another one means it changed since. */
type CondaReplacement = Replacement & { sha256InPrefix?: string };
/** One line of `prefix-records.json`: a file holding a placeholder for `bin/conda-unpack` to fill. */
type UnpackRecord = [path: string, placeholder: string, mode: "text" | "binary"];

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
  compressionLevelOf(options);
  const isExcluded = excludeMatcher(options.exclude);
  const prefix = resolve(options.interpreter.prefix);
  const records = await readCondaRecords(prefix);
  const destPrefix = checkedDestPrefix(options.destPrefix);
  const prefixes = [...new Set([prefix, realpathSync(prefix)])];
  const condaPackageOf = condaPackagesByFile(records);
  const replacements = planPrefixReplacements(records);
  const { distributions } = await readDistributions(options.interpreter.sitePackages);
  const overwrittenByPip = filesPipOverwrote(prefix, distributions, condaPackageOf).filter(
    (file) => !isExcluded(file.path),
  );
  const editables = await planEditables(prefix, distributions, { bake: options.includeEditable ?? false });
  const isLeftOut = leftOutOfArchive(prefix, condaPackageOf, editables, isExcluded);
  const linkWarnings: string[] = [];
  const { entries: tree, leftOutLinks } = environmentTree(prefix, {
    skip: isLeftOut,
    links: { unsafeLinks: options.unsafeLinks ?? "refuse", warnings: linkWarnings },
  });
  const files = packEnvironmentFiles(tree, {
    prefix,
    prefixes,
    destPrefix,
    condaPackageOf,
    replacements: replacements.byFile,
    records: new Map(records.map((record) => [record.recordFile, record])),
    siteDirectories: new Set(options.interpreter.sitePackages.map((site) => resolve(site))),
    editables,
  });
  const clobbered = [...overwrittenByPip, ...changedOtherwise(files.changed, overwrittenByPip)];
  // A link left out has its own warning: it is not among the files gone.
  const missing = missingFiles(condaPackageOf, tree, (name) => leftOutLinks.has(name) || isLeftOut(name));
  const warnings = [
    ...replacements.warnings,
    ...linkWarnings,
    ...files.warnings,
    ...changeWarnings(clobbered, missing),
  ];
  const entries = [
    ...files.entries,
    ...relocationEntries(destPrefix, files.unpackRecords),
    ...editables.added.filter((entry) => !isExcluded(entry.name)),
  ];

  const packed = await writeEnvArchive(entries, { ...options, prefix, warnings });
  return {
    ...packed,
    editables: editables.editables,
    clobbered,
    missing,
    prefixRecords: files.unpackRecords.length,
    ...(destPrefix !== undefined && { destPrefix }),
  };
}

/** `destPrefix` without its trailing slashes; refused unless absolute. */
function checkedDestPrefix(destPrefix: string | undefined): string | undefined {
  const trimmed = destPrefix?.replace(/(.)\/+$/, "$1");
  if (trimmed !== undefined && !isAbsolute(trimmed))
    throw new PackerError("INVALID_ARGUMENT", `destPrefix must be an absolute path, not "${destPrefix}"`);
  return trimmed;
}

/** The conda package that installed each file, by its path relative to the prefix. */
function condaPackagesByFile(records: readonly CondaRecord[]): Map<string, string> {
  return new Map(
    records.flatMap((record) => record.files.map((file) => [posix.normalize(file), record.name] as const)),
  );
}

/** The files conda wrote the environment's path into, by path, and a warning per record that does not say. */
function planPrefixReplacements(records: readonly CondaRecord[]): {
  byFile: Map<string, CondaReplacement>;
  warnings: string[];
} {
  const byFile = new Map<string, CondaReplacement>();
  for (const record of records)
    for (const path of record.paths ?? [])
      if (path.placeholder)
        byFile.set(posix.normalize(path.path), {
          placeholder: path.placeholder,
          mode: path.fileMode ?? "text",
          ...(path.sha256InPrefix && { sha256InPrefix: path.sha256InPrefix }),
        });
  const warnings = records
    .filter((record) => !record.paths)
    .map(
      (record) =>
        `${record.recordFile} has no paths_data (conda older than 4.3): placeholders of ${record.name} are unknown and stay as installed`,
    );
  return { byFile, warnings };
}

/** conda's files that pip installed over: the RECORD of a distribution conda did not install lists them. */
function filesPipOverwrote(
  prefix: string,
  distributions: readonly Distribution[],
  condaPackageOf: ReadonlyMap<string, string>,
): ClobberedFile[] {
  return distributions
    .filter((distribution) => distribution.installer !== "conda")
    .flatMap((distribution) =>
      (distribution.files ?? []).flatMap((file) => {
        const path = relative(prefix, resolve(distribution.sitePackages, file.path));
        const condaPackage = condaPackageOf.get(path);
        return condaPackage && !isBytecode(path, "file")
          ? [{ path, condaPackage, distribution: distribution.normalizedName }]
          : [];
      }),
    );
}

/**
 * Whether a path of the prefix stays out of the archive: not part of the environment, replaced by ours, or
 * excluded by the user.
 */
function leftOutOfArchive(
  prefix: string,
  condaPackageOf: ReadonlyMap<string, string>,
  editables: EditablePlan,
  isExcluded: ExcludeMatcher,
): (name: string) => boolean {
  return (name) =>
    notEnvironment.has(name) ||
    (activationLeftovers.has(name) && !condaPackageOf.has(name)) ||
    shippedByUs.has(name) ||
    editables.isLeftOut(join(prefix, name)) ||
    isExcluded(name);
}

/** What deciding how each file of the environment ships needs to know. */
interface CondaEnvironment {
  prefix: string;
  /** `prefix` and its real path: files may name either. */
  prefixes: readonly string[];
  destPrefix: string | undefined;
  condaPackageOf: ReadonlyMap<string, string>;
  /** The placeholders conda replaced with the environment's path, by file. */
  replacements: ReadonlyMap<string, CondaReplacement>;
  /** conda-meta's package records, by their path. */
  records: ReadonlyMap<string, CondaRecord>;
  siteDirectories: ReadonlySet<string>;
  editables: EditablePlan;
}

/** How one file of the environment ships, and what packing it found out. */
interface PackedFile {
  entry: ArchiveEntry;
  warnings: string[];
  /** The placeholder it holds for `bin/conda-unpack` to fill. */
  unpackRecord?: UnpackRecord;
  /** conda installed it, and it is no longer what conda left (pip's overwrites are among these). */
  changed?: ClobberedFile;
}

/** Bytes shipped in place of a file's, with what producing them found out. */
type ShippedContent = Omit<PackedFile, "entry"> & { data: Buffer };

/** The entries of the environment's tree as they ship, with what packing them found out, in tree order. */
function packEnvironmentFiles(
  tree: readonly ArchiveEntry[],
  environment: CondaEnvironment,
): {
  entries: ArchiveEntry[];
  warnings: string[];
  unpackRecords: UnpackRecord[];
  changed: ClobberedFile[];
} {
  const files = tree.map(
    (entry): PackedFile => (entry.kind === "file" ? packedFile(entry, environment) : { entry, warnings: [] }),
  );
  return {
    entries: files.map((file) => file.entry),
    warnings: files.flatMap((file) => file.warnings),
    unpackRecords: files.flatMap((file) => (file.unpackRecord ? [file.unpackRecord] : [])),
    changed: files.flatMap((file) => (file.changed ? [file.changed] : [])),
  };
}

/**
 * How a file of the environment ships: conda-meta's records and the files the editable plan rewrites with their
 * new content, files that may name the environment's path relocated, everything else as it is on disk.
 */
function packedFile(entry: FileEntry, environment: CondaEnvironment): PackedFile {
  const { prefix, prefixes, condaPackageOf, siteDirectories } = environment;
  const path = join(prefix, entry.name);
  const shipped = ({ data, ...found }: ShippedContent): PackedFile => ({
    ...found,
    entry: { kind: "buffer", name: entry.name, data, mode: entry.mode ?? 0o644 },
  });
  const asIs: PackedFile = { entry, warnings: [] };
  const replaced = environment.editables.replaced.get(path);
  if (replaced) return shipped({ data: replaced, warnings: [] });
  const record = environment.records.get(entry.name);
  if (record) return shipped({ data: record.shipped, warnings: [] });

  const inBin = /^bin\/[^/]+$/.test(entry.name);
  const managed = environment.replacements.get(entry.name);
  const ownedByConda = condaPackageOf.has(entry.name);
  // conda's files say whether they hold its path; in bin/ only a shebang may (noarch entry points lack records).
  if (!managed && ownedByConda && inBin && !startsWithShebang(path)) return asIs;
  if (!managed && !inBin && (ownedByConda || inSitePackages(path, siteDirectories))) {
    if (entry.name.endsWith(".pth") && siteDirectories.has(posix.dirname(path))) {
      const warnings: string[] = [];
      return shipped({ data: packedPthFile(entry.name, path, prefixes, warnings), warnings });
    }
    return asIs;
  }
  if (!managed && !inBin && !fileMentions(path, prefixes)) return asIs;
  const original = readFileSync(path);
  const changedSinceConda = managed?.sha256InPrefix && sha256Of(original) !== managed.sha256InPrefix;
  if (managed && !changedSinceConda) {
    const data =
      inBin && managed.mode === "text" ? (relocateScript(original, prefixes) ?? original) : original;
    return shipped(relocated(entry.name, data, managed, environment));
  }
  const changed = managed && {
    changed: { path: entry.name, condaPackage: condaPackageOf.get(entry.name) ?? "" },
  };
  // Not conda's, or changed since conda wrote it: shebangs are made relocatable, other mentions of the
  // environment's path in text get conda's text placeholder; binaries cannot be rewritten safely.
  const script = inBin ? relocateScript(original, prefixes) : undefined;
  const data = script ?? original;
  if (!prefixes.some((root) => data.includes(root)))
    return script ? shipped({ data: script, warnings: [], ...changed }) : { ...asIs, ...changed };
  if (!looksLikeText(data)) {
    const warning = `${entry.name}: a binary file naming the environment's path (${prefix}), which cannot be relocated`;
    return { entry, warnings: [warning], ...changed };
  }
  const textReplacement: Replacement = { placeholder: TEXT_PLACEHOLDER, mode: "text" };
  return shipped({ ...relocated(entry.name, data, textReplacement, environment), ...changed });
}

const replacedIn = (data: Buffer, from: string, to: string, mode: Replacement["mode"]) =>
  mode === "text" ? replaceInText(data, from, to) : replaceInBinary(data, from, to);

/**
 * A file's bytes (`name` in the archive) with the environment's path swapped back to the placeholder, and to
 * `destPrefix` when given; without it, a placeholder left is recorded for `bin/conda-unpack`.
 */
function relocated(
  name: string,
  data: Buffer,
  replacement: Replacement,
  environment: Pick<CondaEnvironment, "prefix" | "prefixes" | "destPrefix">,
): ShippedContent {
  const { placeholder, mode } = replacement;
  let restored = data;
  for (const root of environment.prefixes) {
    const swapped = replacedIn(restored, root, placeholder, mode);
    if (isNoRoom(swapped)) {
      const warning = `${name}: holds the environment's path without the padding conda leaves after it, so it cannot be relocated and still names ${root}`;
      return { data, warnings: [warning] };
    }
    restored = swapped;
  }
  if (!restored.includes(Buffer.from(placeholder))) return { data: restored, warnings: [] };
  const { destPrefix } = environment;
  if (destPrefix === undefined)
    return { data: restored, warnings: [], unpackRecord: [name, placeholder, mode] };
  const placed = replacedIn(restored, placeholder, destPrefix, mode);
  if (isNoRoom(placed))
    throw new PackerError(
      "UNRELOCATABLE",
      `the destination ${destPrefix} is ${Buffer.byteLength(destPrefix)} bytes long, but ${name} has room for a path of ${Buffer.byteLength(placeholder)} bytes: choose a shorter destination`,
      { location: join(environment.prefix, name) },
    );
  return { data: placed, warnings: [] };
}

/** The conda files found changed while packing that pip did not overwrite (those are reported as pip's). */
function changedOtherwise(
  changed: readonly ClobberedFile[],
  overwrittenByPip: readonly ClobberedFile[],
): ClobberedFile[] {
  return changed.filter((file) => !overwrittenByPip.some((pip) => pip.path === file.path));
}

/** conda's files the environment no longer has, but for bytecode. */
function missingFiles(
  condaPackageOf: ReadonlyMap<string, string>,
  tree: readonly ArchiveEntry[],
  isLeftOut: (name: string) => boolean,
): MissingFile[] {
  const present = new Set(tree.map((entry) => entry.name));
  // Files this packer leaves out itself (conda's bin/activate, replaced by ours) are not gone.
  const isLeftOutWithin = (name: string) => {
    for (let path = name; path !== "."; path = posix.dirname(path)) if (isLeftOut(path)) return true;
    return false;
  };
  return [...condaPackageOf]
    .filter(([path]) => !present.has(path) && !isBytecode(path, "file") && !isLeftOutWithin(path))
    .map(([path, condaPackage]) => ({ path, condaPackage }));
}

/** A line per conda file pip (or a later change) overwrote, and one per conda package with files gone. */
function changeWarnings(clobbered: readonly ClobberedFile[], missing: readonly MissingFile[]): string[] {
  const missingByPackage = new Map<string, string[]>();
  for (const file of missing)
    missingByPackage.set(file.condaPackage, [...(missingByPackage.get(file.condaPackage) ?? []), file.path]);
  return [
    ...clobbered.map((file) =>
      file.distribution
        ? `${file.path}: installed by conda (${file.condaPackage}) and overwritten by pip (${file.distribution}); the archive has pip's version`
        : `${file.path}: installed by conda (${file.condaPackage}) and changed since; it ships as it is now`,
    ),
    ...[...missingByPackage].map(
      ([condaPackage, paths]) =>
        `${condaPackage}: ${paths.length} file(s) conda installed are gone (pip uninstalled or replaced them?), e.g. ${paths[0]}; check with conda list`,
    ),
  ];
}

/**
 * The files that relocate the archive where it is unpacked: our relocatable `bin/activate` and, without
 * `destPrefix`, `bin/conda-unpack` with the placeholders it fills.
 */
function relocationEntries(
  destPrefix: string | undefined,
  unpackRecords: readonly UnpackRecord[],
): ArchiveEntry[] {
  const activate: ArchiveEntry = {
    kind: "buffer",
    name: "bin/activate",
    data: relocationFile("activate"),
    mode: 0o644,
  };
  if (destPrefix !== undefined) return [activate];
  const records = [...unpackRecords].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    activate,
    {
      kind: "buffer",
      name: "bin/conda-unpack",
      data: Buffer.concat([Buffer.from(relocatableShebang("python", "")), relocationFile("conda-unpack.py")]),
      mode: 0o755,
    },
    {
      kind: "buffer",
      name: RECORDS_FILE,
      data: Buffer.from(`${JSON.stringify({ version: 1, records }, null, 1)}\n`),
    },
  ];
}

function inSitePackages(path: string, siteDirectories: ReadonlySet<string>): boolean {
  for (const site of siteDirectories) if (path.startsWith(`${site}/`)) return true;
  return false;
}

const sha256Of = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** Whether a file holds any of `texts`, read in chunks: an environment may keep multi-GB data files. */
function fileMentions(path: string, texts: readonly string[]): boolean {
  const needles = texts.map((text) => Buffer.from(text));
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
