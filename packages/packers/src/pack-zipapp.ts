import type { Writable } from "node:stream";
import { type ArchiveEntry, type BufferEntry, writeZip } from "@cluster-pack/archive";
import { findEditableInstalls } from "@cluster-pack/editable";
import { sanitizeLine } from "@cluster-pack/errors";
import {
  type Distribution,
  type Interpreter,
  type Requirement,
  readDistributions,
} from "@cluster-pack/python-env";
import { bootstrapMain, pythonCommand, toolVersion } from "./bootstrap.js";
import { bytecodeEntries } from "./bytecode.js";
import { PackerError } from "./errors.js";
import { excludeMatcher } from "./exclude-patterns.js";
import {
  DEPS,
  distributionFiles,
  editableFiles,
  hashOf,
  type LinkHandling,
  type UnsafeLinks,
} from "./packed-files.js";
import { formatPexInfo, type InheritPath, type PexInfo } from "./pex-info.js";
import { publishArchive } from "./published-archive.js";
import { appendTo, launcherZip } from "./zipapp-launcher.js";

/**
 * - `zipapp` (`env.pex`): a shebang, the environment zip, then a small launcher zip (`__main__.py` and a copy of
 *   `PEX-INFO`, `zipapp-launcher.ts`) that every Python from 3.8 on starts, whatever the environment's size;
 *   executable, it extracts its dependencies once into `$PEX_ROOT`.
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
  /** The archive to write; it appears complete or not at all. With `destination`, only its name (messages). */
  output: string;
  /** Writes the archive into this stream (an upload) instead of the file `output`; the stream is not ended. */
  destination?: Writable;
  layout?: ZipappLayout;
  /** `module` or `module:function`, run instead of the interpreter behaviour (`PEX_MODULE` overrides). */
  entryPoint?: string;
  /** Default `fallback`: our packages first, the host's site-packages after. */
  inheritPath?: InheritPath;
  /** 0 stores (fastest to extract), 1–9 deflate; default 1 (`DEFAULT_ZIPAPP_LEVEL`). */
  compressionLevel?: number;
  /** fnmatch patterns on paths under `.deps/` left out of the archive (`exclude-patterns.ts`). */
  exclude?: readonly string[];
  /**
   * The environment's interpreter, to precompile every packed `.py` with (PEP 552 unchecked-hash `.pyc` beside
   * each source, `bytecode.ts`); default: no bytecode.
   */
  compileWith?: string;
  /** Bake editable installs' code into the archive (default false: it ships separately as small zips). */
  includeEditable?: boolean;
  /** Seconds since 1970 stamped on every entry; default `SOURCE_DATE_EPOCH`, else 1980-01-01. */
  sourceDateEpoch?: number;
  /**
   * A packed symlink that dangles or leaves site-packages: `refuse` (default) stops in one line naming it; `skip`
   * leaves it out, with a warning naming it.
   */
  unsafeLinks?: UnsafeLinks;
}

export interface PackedZipapp {
  output: string;
  layout: ZipappLayout;
  pexInfo: PexInfo;
  /** Hex sha256 of the archive file. */
  sha256: string;
  /** Bytes of the file, the launcher of a zipapp included. */
  bytes: number;
  /** Entries of the environment zip (a zipapp's launcher repeats two of them). */
  entries: number;
  /** Whether the environment zip needed ZIP64 (a zipapp's launcher never does). */
  zip64: boolean;
  /** What was left out that the environment has (`unsafeLinks: skip`), each one line; empty otherwise. */
  warnings: string[];
}

const inheritPaths: readonly InheritPath[] = ["false", "fallback", "prefer"];

/** Fast deflate: a zipapp is extracted on every node, so packing speed matters more than the last bytes. */
export const DEFAULT_ZIPAPP_LEVEL = 1;

async function selectDistributions(options: PackZipappOptions): Promise<Distribution[]> {
  if (options.requirementSet) {
    return options.requirementSet.map((requirement) => {
      if (!requirement.distribution)
        throw new PackerError(
          "INVALID_ARGUMENT",
          `${sanitizeLine(requirement.name)} is not installed: a zipapp packs installed files, so install it into the environment first`,
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
  const isExcluded = excludeMatcher(options.exclude);
  const kept = (file: ArchiveEntry) => !isExcluded(file.name.slice(DEPS.length + 1));
  const links: LinkHandling = { unsafeLinks: options.unsafeLinks ?? "refuse", warnings: [] };

  const byName = new Map<string, ArchiveEntry>();
  const filesByDistribution = new Map<string, ArchiveEntry[]>();
  for (const distribution of distributions) {
    const files = distributionFiles(distribution, links, isExcluded);
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
    for (const editable of editables) code.push(...editableFiles(editable, links).filter(kept));
    for (const file of code) byName.set(file.name, file);
  }
  const files = [...byName.values()];
  // Bytecode is part of what is extracted, so of pex_hash: an extraction without it is never reused for it.
  const bytecode = options.compileWith ? await bytecodeEntries(options.compileWith, files) : [];

  const command = pythonCommand(options.interpreter.version);
  // PEX-INFO is written last, from the digests the zip writer takes of every file as it packs it: one read.
  let pexInfo: PexInfo | undefined;
  const describe = (digests: ReadonlyMap<string, string>): PexInfo => ({
    pex_hash: hashOf([...files, ...bytecode], digests),
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
  const main: BufferEntry = {
    kind: "buffer",
    name: "__main__.py",
    data: Buffer.from(bootstrapMain(command)),
    mode: 0o755,
  };
  const entries: ArchiveEntry[] = [main, { kind: "directory", name: DEPS }, ...files, ...bytecode];
  const level = options.compressionLevel ?? DEFAULT_ZIPAPP_LEVEL;
  const epoch = options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch };

  const { written, sha256 } = await publishArchive(
    options.destination ?? options.output,
    async (destination) => {
      let info: BufferEntry | undefined;
      const summary = await writeZip(entries, destination, {
        level,
        ...(layout === "zipapp" && { prefix: `#!/usr/bin/env ${command}\n` }),
        ...epoch,
        fileMode: layout === "zipapp" ? 0o755 : 0o644,
        label: options.output,
        closingEntries: (digests) => {
          pexInfo = describe(digests);
          info = { kind: "buffer", name: "PEX-INFO", data: Buffer.from(formatPexInfo(pexInfo)) };
          return [info];
        },
      });
      if (!pexInfo || !info) throw new Error("the zip writer did not ask for PEX-INFO");
      let bytes = summary.bytes;
      if (layout === "zipapp") {
        const launcher = await launcherZip([main, info], bytes, { level, ...epoch });
        await appendTo(destination, launcher, options.output);
        bytes += launcher.length;
      }
      return { summary, bytes, pexInfo };
    },
  );
  const { summary } = written;
  return {
    output: options.output,
    layout,
    pexInfo: written.pexInfo,
    sha256,
    bytes: written.bytes,
    entries: summary.entries,
    zip64: summary.zip64,
    warnings: links.warnings,
  };
}
