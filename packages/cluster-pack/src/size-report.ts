import { createHash } from "node:crypto";
import { lstat } from "node:fs/promises";
import { join, posix } from "node:path";
import { Readable } from "node:stream";
import { readArchiveMembers } from "@cluster-pack/archive";
import { writeFileAtomically } from "@cluster-pack/fs";
import { type EnvironmentModel, parseRecord } from "@cluster-pack/python-env";
import {
  buildSizeReport,
  type HtmlOptions,
  renderHtml,
  type SizeEntry,
  type SizeReport,
} from "@cluster-pack/size-report";
import { type LocalArchiveOptions, withLocalArchive } from "./local-archive.js";
import { formatOfArchive } from "./packer.js";
import { sha256OfFile } from "./publish.js";

export interface SizeReportSourceOptions {
  /** How many largest files and duplicate sets the report keeps; default 20. */
  top?: number;
}

export interface ArchiveSizeReportOptions extends SizeReportSourceOptions, LocalArchiveOptions {}

/** The directory of a zipapp (`.pex`) and of its unpack layout (`.pex.zip`) holding the environment's files. */
const DEPS = ".deps/";

/** RECORD's `sha256=<urlsafe base64, no padding>` as hex, the form the archive side computes. */
const hexOfRecordHash = (hash: string | undefined) =>
  hash?.startsWith("sha256=") ? Buffer.from(hash.slice(7), "base64url").toString("hex") : undefined;

/** `name-1.0.dist-info` → `name` (PEP 427 escapes `-` in the name, so the first `-` ends it). */
const distributionOfDistInfo = (directory: string) => {
  const base = posix.basename(directory, ".dist-info");
  const dash = base.indexOf("-");
  return dash === -1 ? base : base.slice(0, dash);
};

/**
 * Where an installed environment's bytes go: every file the RECORDs of the distributions it would ship list inside
 * site-packages, by the path a zipapp's `--exclude` sees (relative to site-packages), sized on disk (RECORD has no
 * size for bytecode written at install time, and a file edited since has another). Scripts RECORD places outside site-packages (`../../../bin/tool`) are left out: no
 * pattern reaches them. A listed file that is gone is left out too: the report is of what is there.
 */
export async function environmentSizeReport(
  model: EnvironmentModel,
  options: SizeReportSourceOptions = {},
): Promise<SizeReport> {
  const entries: SizeEntry[] = [];
  // What would ship: the requirement set (`--only`/`--ignore` applied; editables ship as zips of their own).
  const shipped = model.requirements.flatMap((requirement) =>
    requirement.distribution ? [requirement.distribution] : [],
  );
  for (const distribution of shipped) {
    const records = (distribution.files ?? [])
      .map((record) => ({ ...record, path: posix.normalize(record.path) }))
      .filter((record) => !record.path.startsWith("../") && !record.path.startsWith("/"));
    // In batches: an environment has tens of thousands of files, more than there are file descriptors.
    for (let start = 0; start < records.length; start += 64) {
      const batch = records.slice(start, start + 64);
      const measured = await Promise.all(
        batch.map(async (record): Promise<SizeEntry | undefined> => {
          const onDisk = join(distribution.sitePackages, record.path);
          const stats = await lstat(onDisk).catch(() => undefined);
          if (!stats || stats.isDirectory()) return undefined;
          const sha256 =
            hexOfRecordHash(record.hash) ?? (stats.isFile() ? await sha256OfFile(onDisk) : undefined);
          return {
            path: record.path,
            size: stats.size,
            package: distribution.name,
            ...(sha256 !== undefined && { sha256 }),
          };
        }),
      );
      for (const entry of measured) if (entry) entries.push(entry);
    }
  }
  return buildSizeReport(entries, { source: model.interpreter.prefix, ...options });
}

/** What the walk keeps of an archive's metadata to map its files to distributions afterwards. */
interface Owners {
  /** RECORD files: their directory's site-packages and their text. */
  records: { sitePackages: string; distribution: string; text: string }[];
  /** conda-meta/*.json: the conda package's name and the files it installed. */
  conda: { name: string; files: string[] }[];
}

const isRecord = (path: string) => /(^|\/)[^/]+\.dist-info\/RECORD$/.test(path);
const isCondaMeta = (path: string) => /^conda-meta\/[^/]+\.json$/.test(path);

async function readAll(content: AsyncIterable<Buffer>, hash: ReturnType<typeof createHash>, keep: boolean) {
  const kept: Buffer[] = [];
  for await (const piece of content) {
    hash.update(piece);
    if (keep) kept.push(piece);
  }
  return keep ? Buffer.concat(kept) : undefined;
}

/**
 * Where an archive's bytes go: `.pex`, `.pex.zip` (the environment's files under `.deps/`, by their path there;
 * the launcher and bootstrap the packer adds are left out, no `--exclude` reaches them) or a venv or conda
 * `.tar.gz`/`.zip` (every file, by its path inside the environment). Files are mapped to distributions through the
 * archive's own `.dist-info/RECORD` files (and, in a conda archive, `conda-meta/`); duplicates are found by the
 * sha256 of each entry's content. A stored archive (`s3://`, `hdfs://`…) is downloaded to a work directory first.
 */
export async function archiveSizeReport(
  location: string,
  options: ArchiveSizeReportOptions = {},
): Promise<SizeReport> {
  const format = formatOfArchive(location);
  return withLocalArchive(location, options, async (localPath) => {
    const entries: SizeEntry[] = [];
    const owners: Owners = { records: [], conda: [] };
    const zipapp = format === "pex" || format === "pex.zip";
    await readArchiveMembers(localPath, async (file) => {
      if (file.kind !== "file" || (zipapp && !file.name.startsWith(DEPS))) return;
      const path = zipapp ? file.name.slice(DEPS.length) : file.name;
      const hash = createHash("sha256");
      const metadata = isRecord(path) || (!zipapp && isCondaMeta(path));
      const content = await readAll(file.content(), hash, metadata);
      entries.push({ path, size: file.size, sha256: hash.digest("hex") });
      if (!content) return;
      if (isRecord(path)) {
        const distInfo = posix.dirname(path);
        owners.records.push({
          sitePackages: posix.dirname(distInfo),
          distribution: distributionOfDistInfo(distInfo),
          text: content.toString("utf8"),
        });
        return;
      }
      try {
        const meta = JSON.parse(content.toString("utf8")) as { name?: unknown; files?: unknown };
        if (typeof meta.name === "string" && Array.isArray(meta.files))
          owners.conda.push({
            name: meta.name,
            files: meta.files.filter((file): file is string => typeof file === "string"),
          });
      } catch {
        // Not a package record conda wrote: its files stay unowned.
      }
    });
    const ownerOf = new Map<string, string>();
    for (const { name, files } of owners.conda)
      for (const file of files) ownerOf.set(posix.normalize(file), name);
    // A Python package conda installed has both; RECORD's name is the one pip and `--exclude` users know.
    for (const { sitePackages, distribution, text } of owners.records)
      for (const record of parseRecord(text))
        ownerOf.set(posix.normalize(posix.join(sitePackages, record.path)), distribution);
    for (const entry of entries) {
      const owner = ownerOf.get(entry.path);
      if (owner !== undefined) entry.package = owner;
    }
    return buildSizeReport(entries, {
      source: location,
      ...(options.top !== undefined && { top: options.top }),
    });
  });
}

/** Writes the report's HTML page to a local file, atomically: the path holds the whole page or what it held before. */
export async function writeSizeReportHtml(
  report: SizeReport,
  target: string,
  options: HtmlOptions = {},
): Promise<void> {
  await writeFileAtomically(target, Readable.from([Buffer.from(renderHtml(report, options))]));
}
