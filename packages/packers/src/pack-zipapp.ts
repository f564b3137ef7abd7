import { type ArchiveEntry, writeZip } from "@cluster-pack/archive";
import { findEditableInstalls } from "@cluster-pack/editable";
import {
  type Distribution,
  type Interpreter,
  type Requirement,
  readDistributions,
} from "@cluster-pack/python-env";
import { bootstrapMain, pythonCommand, shellPreamble, toolVersion } from "./bootstrap.js";
import { PackerError } from "./errors.js";
import { DEPS, distributionFiles, editableFiles, hashOf } from "./packed-files.js";
import { formatPexInfo, type InheritPath, type PexInfo } from "./pex-info.js";
import { publishArchive } from "./published-archive.js";

/**
 * - `zipapp` (`env.pex`): a shebang (or, for ZIP64 on Python < 3.13, a `/bin/sh` preamble) + zip, executable;
 *   run directly, it extracts its dependencies once into `$PEX_ROOT`.
 * - `unpack` (`env.pex.zip`): the same entries with no prefix, for the cluster to unpack (YARN `#pyenv`);
 *   `pyenv/__main__.py` then uses `pyenv/.deps` in place.
 */
export type ZipappLayout = "zipapp" | "unpack";

export interface PackZipappOptions {
  /** The probed interpreter of the environment (its version names the shebang; its site-packages are read). */
  interpreter: Pick<Interpreter, "version" | "platform" | "implementation" | "abiTag" | "sitePackages">;
  /** What to pack; default: every distribution of the interpreter's own site-packages. Editables are skipped. */
  distributions?: readonly Distribution[];
  /** Alternatively, a requirement set (`buildRequirementSet`): each must be installed. */
  requirementSet?: readonly Requirement[];
  /** The archive to write; it appears complete or not at all. */
  output: string;
  layout?: ZipappLayout;
  /** `module` or `module:function`, run instead of the interpreter behaviour (`PEX_MODULE` overrides). */
  entryPoint?: string;
  /** Default `fallback`: our packages first, the host's site-packages after. */
  inheritPath?: InheritPath;
  /** 0 stores (fastest to extract), 1–9 deflate; default 1. */
  compressionLevel?: number;
  /** Bake editable installs' code into the archive (default false: it ships separately as small zips). */
  includeEditable?: boolean;
  /** Seconds since 1970 stamped on every entry; default `SOURCE_DATE_EPOCH`, else 1980-01-01. */
  sourceDateEpoch?: number;
}

export interface PackedZipapp {
  output: string;
  layout: ZipappLayout;
  pexInfo: PexInfo;
  /** Hex sha256 of the archive file. */
  sha256: string;
  bytes: number;
  entries: number;
  /** Whether the zip needed ZIP64; for a zipapp targeting Python < 3.13 this means the `/bin/sh` preamble. */
  zip64: boolean;
}

const inheritPaths: readonly InheritPath[] = ["false", "fallback", "prefer"];

/** Below these, no ZIP64 record can be needed (APPNOTE 4.4.1.4: 16-bit counts, 32-bit sizes and offsets). */
const MAX_16 = 0xffff;
const MAX_32 = 0xffffffff;

/** A bound on the zip's size before writing: deflate's worst case plus headers, so the prefix is chosen up front. */
/** `entries` are all but PEX-INFO, which the writer adds last. */
function mayNeedZip64(entries: readonly ArchiveEntry[]): boolean {
  if (entries.length + 1 >= MAX_16) return true;
  let bound = 0;
  for (const entry of entries) {
    const size = entry.kind === "file" ? (entry.size ?? 0) : 0;
    bound += size + Math.floor(size / 4096) + 200 + 2 * Buffer.byteLength(entry.name);
  }
  return bound >= MAX_32;
}

async function selectDistributions(options: PackZipappOptions): Promise<Distribution[]> {
  if (options.requirementSet) {
    return options.requirementSet.map((requirement) => {
      if (!requirement.distribution)
        throw new PackerError(
          "INVALID_ARGUMENT",
          `${requirement.name} is not installed: a zipapp packs installed files, so install it into the environment first`,
        );
      return requirement.distribution;
    });
  }
  const distributions =
    options.distributions ?? (await readDistributions(options.interpreter.sitePackages)).distributions;
  return distributions.filter((distribution) => !distribution.editable);
}

/**
 * Packs an installed environment into a PEX-style zipapp (or the unpack layout) straight from its site-packages:
 * the RECORD files of each distribution, no resolution, no wheel rebuilding. Deterministic: the same
 * environment gives a byte-identical archive.
 */
export async function packZipapp(options: PackZipappOptions): Promise<PackedZipapp> {
  const layout = options.layout ?? "zipapp";
  const inheritPath = options.inheritPath ?? "fallback";
  if (!inheritPaths.includes(inheritPath))
    throw new PackerError(
      "INVALID_ARGUMENT",
      `inheritPath must be false, fallback or prefer, not "${inheritPath}"`,
    );
  const distributions = await selectDistributions(options);

  const byName = new Map<string, ArchiveEntry>();
  const filesByDistribution = new Map<string, ArchiveEntry[]>();
  for (const distribution of distributions) {
    const files = distributionFiles(distribution);
    filesByDistribution.set(distribution.name, files);
    // Namespace packages can list one file in two distributions: the first on sys.path wins, as at import.
    for (const file of files) if (!byName.has(file.name)) byName.set(file.name, file);
  }
  const code: ArchiveEntry[] = [];
  if (options.includeEditable) {
    // The editable installs of the whole environment: `distributions` lists only what is packed as installed.
    const { distributions: installed } = await readDistributions(options.interpreter.sitePackages);
    const { editables, problems } = await findEditableInstalls(installed);
    const problem = problems[0];
    if (problem)
      throw new PackerError("INVALID_ARGUMENT", problem.detail, {
        location: problem.location,
        cause: problem,
      });
    for (const editable of editables) code.push(...editableFiles(editable));
    for (const file of code) byName.set(file.name, file);
  }
  const files = [...byName.values()];

  const command = pythonCommand(options.interpreter.version);
  // PEX-INFO is written last, from the digests the zip writer takes of every file as it packs it: one read.
  let pexInfo: PexInfo | undefined;
  const describe = (digests: ReadonlyMap<string, string>): PexInfo => ({
    pex_hash: hashOf(files, digests),
    code_hash: hashOf(code, digests),
    distributions: Object.fromEntries(
      [...filesByDistribution].map(([name, entries]) => [name, hashOf(entries, digests)]),
    ),
    requirements: distributions.map((d) => `${d.name}==${d.version}`),
    inherit_path: inheritPath,
    entry_point: options.entryPoint ?? null,
    build_properties: {
      platform: options.interpreter.platform,
      python_version: options.interpreter.version,
      implementation: options.interpreter.implementation,
      abi: options.interpreter.abiTag,
      cluster_pack_version: toolVersion(),
    },
  });
  const [major = 3, minor = 0] = options.interpreter.version.split(".").map(Number);
  const zipimportReadsZip64 = major > 3 || minor >= 13;
  const entries: ArchiveEntry[] = [
    { kind: "buffer", name: "__main__.py", data: Buffer.from(bootstrapMain(command)), mode: 0o755 },
    { kind: "directory", name: DEPS },
    ...files,
  ];
  const needsPreamble = layout === "zipapp" && !zipimportReadsZip64 && mayNeedZip64(entries);

  const { written, sha256 } = await publishArchive(options.output, async (temporary) => {
    const summary = await writeZip(entries, temporary, {
      level: options.compressionLevel ?? 1,
      ...(layout === "zipapp" && {
        prefix: needsPreamble ? shellPreamble(command) : `#!/usr/bin/env ${command}\n`,
      }),
      ...(options.sourceDateEpoch !== undefined && { sourceDateEpoch: options.sourceDateEpoch }),
      fileMode: layout === "zipapp" ? 0o755 : 0o644,
      label: options.output,
      closingEntries: (digests) => {
        pexInfo = describe(digests);
        return [{ kind: "buffer", name: "PEX-INFO", data: Buffer.from(formatPexInfo(pexInfo)) }];
      },
    });
    if (!pexInfo) throw new Error("the zip writer did not ask for PEX-INFO");
    return { summary, pexInfo };
  });
  const { summary } = written;
  return {
    output: options.output,
    layout,
    pexInfo: written.pexInfo,
    sha256,
    bytes: summary.bytes,
    entries: summary.entries,
    zip64: summary.zip64,
  };
}
