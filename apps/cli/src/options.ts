import { basename, resolve } from "node:path";
import {
  type ArchiveFormat,
  archiveFormats,
  type Compression,
  type EnvironmentOptions,
  type PackageSelection,
  type Packer,
  packers,
  type SpecOptions,
  type StorageOptions,
} from "cluster-pack";
import { Option } from "commander";
import type { ProjectConfig } from "./config.js";
import { UsageError } from "./usage-error.js";

/** Flags every command accepts (declared on the program, read with `optsWithGlobals`). */
export interface GlobalFlags {
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
  plugin?: string[];
  json?: boolean;
  /** HDFS: authenticate with Kerberos (SPNEGO). */
  kerberos?: boolean;
  /** HDFS: the Kerberos principal (with `keytab`, a login without kinit). */
  principal?: string;
  keytab?: string;
  /** HDFS: the addresses are HttpFS gateways. */
  httpfs?: boolean;
  /** Seconds without a byte moving before a store request is given up (`--stall-timeout`). */
  stallTimeout?: string;
  /** How many times a failed store request is sent again (`--retries`). */
  retries?: string;
}

/** Flags that choose an environment and the packages it ships (`info` takes only these). */
export interface PackageSelectionFlags extends GlobalFlags {
  python?: string;
  additionalPackages?: string[];
  ignoredPackages?: string[];
  onlyPackages?: string[];
}

/** Flags of the commands that pack an environment (`upload`, `pack`, `config --upload`). */
export interface EnvironmentFlags extends PackageSelectionFlags {
  packer?: string;
  format?: string;
  includeEditable?: boolean;
  withPython?: boolean;
  destPrefix?: string;
  compression?: string;
  exclude?: string[];
  compile?: boolean;
  indexUrl?: string;
  extraIndexUrl?: string[];
  findLinks?: string[];
  /** commander's `--no-index`: false when given. */
  index?: boolean;
  skipBroken?: boolean;
  requirements?: string;
  lock?: string;
  lockOut?: string;
  platform?: string[];
  pythonVersion?: string;
  implementation?: string;
}

const collect = (value: string, previous: string[] | undefined) => [
  ...(previous ?? []),
  ...value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean),
];

export const listOption = (flags: string, description: string) =>
  new Option(flags, `${description} (comma-separated or repeated)`).argParser(collect);

const pythonOption = () =>
  new Option("--python <python>", "the interpreter whose environment is shipped (default: the active venv)");

const packageSelectionOptions = () => [
  listOption("--additional-packages <name==version>", "packages to add or replace (NAME==VERSION or a .whl)"),
  listOption("--ignored-packages <names>", "installed packages to leave out"),
  listOption("--only-packages <names>", "ship only these installed packages"),
];

const jsonOption = () => new Option("--json", "print the result as one JSON object on stdout");

/** The options of `info`: which environment, which of its packages. */
export const inspectionOptions = () => [pythonOption(), ...packageSelectionOptions(), jsonOption()];

/** The options of the commands that pack: which environment, how to pack it, where packages come from. */
export const environmentOptions = () => [
  pythonOption(),
  new Option(
    "--packer <packer>",
    "how to pack (default: from the archive's format or extension, else pex)",
  ).choices([...packers]),
  new Option("--format <format>", "archive format (default: the archive's extension)").choices([
    ...archiveFormats,
  ]),
  new Option("--include-editable", "bake editable installs into the archive too"),
  new Option("--with-python", "venv archives: ship the interpreter too, for nodes without that Python"),
  new Option(
    "--dest-prefix <path>",
    "conda archives: the absolute path they will be unpacked at (no unpack step)",
  ),
  new Option(
    "--compression <level>",
    "store (0), fast (1), best (9) or a level 0-9 (default: 1 for pex and pex.zip, 4 for venv and conda)",
  ),
  // Repeated only: a comma may be part of a pattern.
  new Option(
    "--exclude <glob>",
    "leave out files matching this fnmatch pattern, on paths inside the archive (repeatable; e.g. '*/tests/*')",
  ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
  new Option(
    "--skip-broken",
    "leave out installed distributions nothing identifies (a .dist-info without METADATA), with a warning, instead of stopping",
  ),
  new Option(
    "--compile",
    "precompile the Python sources into the archive (unchecked-hash .pyc, PEP 552): faster first start on the nodes",
  ),
  ...packageSelectionOptions(),
  new Option(
    "--index-url <url>",
    "package index for additional packages and --requirements (default C_PACK_PYPI_URL)",
  ),
  listOption("--extra-index-url <url>", "more package indexes"),
  listOption("--find-links <dir>", "local wheel directories"),
  new Option("--no-index", "never contact a package index"),
  ...specOptions(),
  jsonOption(),
];

/** Packing from a spec: binary wheels for a target, resolved now or replayed from a lock. */
const specOptions = () => [
  new Option(
    "--requirements <file>",
    "pack these requirements (binary wheels, installed by cluster-pack) instead of the installed environment",
  ),
  new Option(
    "--lock <file>",
    "pack the wheels a --lock-out file recorded, from the wheel cache (nothing resolved)",
  ),
  new Option(
    "--lock-out <file>",
    "write the lock of what --requirements resolved to (replay it with --lock)",
  ),
  listOption(
    "--platform <tag>",
    "with --requirements: the target's wheel platform tag, e.g. manylinux2014_x86_64",
  ),
  new Option(
    "--python-version <X.Y>",
    "with --requirements: the target's Python version (default: this one's)",
  ),
  new Option(
    "--implementation <name>",
    "with --requirements: the target's Python implementation (default cp)",
  ),
];

/**
 * Flags first, then the table: the spec to pack from, if any. A flag replaces the table's other way of saying what
 * to pack (`--lock` over `requirements`, `--requirements` over `lock`); combinations that cannot work are the
 * façade's to refuse.
 */
function specOptionsOf(flags: EnvironmentFlags, config: ProjectConfig): SpecOptions {
  const lockFile = flags.lock ?? (flags.requirements === undefined ? config.lock : undefined);
  const requirementsFile = flags.requirements ?? (flags.lock === undefined ? config.requirements : undefined);
  const platforms = flags.platform ?? config.platforms;
  const pythonVersion = flags.pythonVersion ?? config.pythonVersion;
  const implementation = flags.implementation ?? config.implementation;
  const targetGiven = platforms !== undefined || pythonVersion !== undefined || implementation !== undefined;
  return {
    ...(lockFile !== undefined && { lockFile: resolve(lockFile) }),
    ...(requirementsFile !== undefined && { requirementsFile: resolve(requirementsFile) }),
    ...(flags.lockOut !== undefined && { lockOut: resolve(flags.lockOut) }),
    ...(targetGiven && {
      target: {
        ...(platforms !== undefined && { platforms }),
        ...(pythonVersion !== undefined && { pythonVersion }),
        ...(implementation !== undefined && { implementation }),
      },
    }),
  };
}

const wheelName = (path: string) => basename(path).split("-")[0] ?? "";

/** `NAME==VERSION` or a wheel path → the façade's `{ name: versionOrWheel }`. */
export function parseAdditionalPackages(items: readonly string[]): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const item of items) {
    if (item.endsWith(".whl")) {
      packages[wheelName(item)] = item;
      continue;
    }
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)==([^=\s]+)$/.exec(item);
    if (!match?.[1] || !match[2])
      throw new UsageError(
        `--additional-packages: "${item}" is not NAME==VERSION or a .whl path`,
        "write e.g. --additional-packages pyarrow==15.0.0",
      );
    packages[match[1]] = match[2];
  }
  return packages;
}

/** A value from a fixed set, or a usage error listing the set. */
const oneOf = (key: string, value: string | undefined, allowed: readonly string[]) => {
  if (value !== undefined && !allowed.includes(value))
    throw new UsageError(`${key} "${value}" is not supported`, `use ${allowed.join(", ")}`);
  return value;
};

/** `store`, `fast`, `best` or a level 0–9 (as the façade takes it), or a usage error. */
export function parseCompression(value: string, given = "--compression"): Compression {
  if (/^[0-9]$/.test(value)) return Number(value);
  if (value === "store" || value === "fast" || value === "best") return value;
  throw new UsageError(
    `${given} "${value}" is not supported`,
    "use store (0), fast (1), best (9) or a level from 0 to 9",
  );
}

/** Flags first, then `[tool.cluster-pack]`: the environment and the packages it ships. */
export function packageSelectionOf(
  flags: PackageSelectionFlags,
  config: ProjectConfig,
): PackageSelection & { python?: string } {
  const python = flags.python ?? config.python;
  const additional = flags.additionalPackages ?? config.additionalPackages;
  const ignored = flags.ignoredPackages ?? config.ignoredPackages;
  const only = flags.onlyPackages ?? config.onlyPackages;
  return {
    ...(python !== undefined && { python }),
    ...(additional !== undefined && { additionalPackages: parseAdditionalPackages(additional) }),
    ...(ignored !== undefined && { ignoredPackages: ignored }),
    ...(only !== undefined && { onlyPackages: only }),
  };
}

/** Flags first, then `[tool.cluster-pack]`: the façade's environment options. */
export function environmentOptionsOf(flags: EnvironmentFlags, config: ProjectConfig): EnvironmentOptions {
  const packer = oneOf("packer", flags.packer ?? config.packer, packers) as Packer | undefined;
  const format = oneOf("format", flags.format ?? config.format, archiveFormats) as ArchiveFormat | undefined;
  const withPython = flags.withPython ?? config.withPython;
  const destPrefix = flags.destPrefix ?? config.destPrefix;
  // A path on the cluster's nodes, not here: nothing to resolve it against.
  if (destPrefix !== undefined && !destPrefix.startsWith("/"))
    throw new UsageError(
      `--dest-prefix "${destPrefix}" is not an absolute path`,
      "write the full path the archive will be unpacked at, e.g. /opt/envs/analytics",
    );
  const includeEditable = flags.includeEditable ?? config.includeEditable;
  const compression = flags.compression ?? config.compression;
  const exclude = flags.exclude ?? config.exclude;
  const compile = flags.compile ?? config.compile;
  const indexUrl = flags.indexUrl ?? config.indexUrl;
  const extraIndexUrls = flags.extraIndexUrl ?? config.extraIndexUrls;
  const findLinks = flags.findLinks ?? config.findLinks;
  const noIndex = flags.index === false ? true : config.noIndex;
  const skipBroken = flags.skipBroken ?? config.skipBroken;
  return {
    ...packageSelectionOf(flags, config),
    ...(packer !== undefined && { packer }),
    ...(format !== undefined && { format }),
    ...(includeEditable !== undefined && { includeEditable }),
    ...(withPython !== undefined && { withPython }),
    ...(destPrefix !== undefined && { destPrefix }),
    ...(compression !== undefined && {
      compression: parseCompression(
        compression,
        flags.compression === undefined ? `${config.file}: [tool.cluster-pack] compression` : undefined,
      ),
    }),
    ...(exclude !== undefined && { exclude }),
    ...(compile !== undefined && { compile }),
    ...(indexUrl !== undefined && { indexUrl }),
    ...(extraIndexUrls !== undefined && { extraIndexUrls }),
    ...(findLinks !== undefined && { findLinks }),
    ...(noIndex !== undefined && { noIndex }),
    ...(skipBroken && { brokenDistributions: "skip" }),
    ...specOptionsOf(flags, config),
  };
}

/** `--plugin`, then the table's `plugins`; the fs layer adds `CLUSTER_PACK_PLUGINS` itself. */
export function pluginsOf(flags: GlobalFlags, config: ProjectConfig): string[] {
  return [...new Set([...(flags.plugin ?? []), ...(config.plugins ?? [])])];
}

/** `--stall-timeout` (seconds, from a flag or the table) in milliseconds, or a usage error naming where it came from. */
function stallTimeoutMsOf(value: string | number, given: string): number {
  const seconds =
    typeof value === "number" ? value : /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400)
    throw new UsageError(
      `${given} "${value}" is not a positive number of seconds (at most 86400)`,
      "write e.g. --stall-timeout 60",
    );
  return Math.round(seconds * 1000);
}

/** `--retries` (a whole number ≥ 0) as the adapters' attempt count, or a usage error naming where it came from. */
function maxAttemptsOf(value: string | number, given: string): number {
  const retries = typeof value === "number" ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(retries) || retries < 0 || retries > 100)
    throw new UsageError(`${given} "${value}" is not a whole number from 0 to 100`, "write e.g. --retries 3");
  return retries + 1;
}

/** Flags first, then the table: how long a store request may stall and how often it is retried. */
export function networkPolicyOf(
  flags: GlobalFlags,
  config: ProjectConfig,
): NonNullable<StorageOptions["network"]> {
  const inTable = (key: string) => `${config.file}: [tool.cluster-pack] ${key}`;
  const stallTimeout = flags.stallTimeout ?? config.stallTimeout;
  const retries = flags.retries ?? config.retries;
  return {
    ...(stallTimeout !== undefined && {
      stallTimeoutMs: stallTimeoutMsOf(
        stallTimeout,
        flags.stallTimeout === undefined ? inTable("stall-timeout") : "--stall-timeout",
      ),
    }),
    ...(retries !== undefined && {
      maxAttempts: maxAttemptsOf(retries, flags.retries === undefined ? inTable("retries") : "--retries"),
    }),
  };
}

/**
 * The storage options of every command: plugins, the HDFS flags (`--kerberos`, `--principal`, `--keytab`,
 * `--httpfs`), the network policy (`--stall-timeout`, `--retries`), and `log` for what the adapters report (retries,
 * failovers), which `--verbose` shows.
 */
export function fsArgsOf(
  flags: GlobalFlags,
  config: ProjectConfig,
  log?: (message: string) => void,
): StorageOptions & {
  plugins: string[];
  hdfs?: { kerberos?: boolean; principal?: string; keytab?: string; httpfs?: boolean };
} {
  const hdfs = {
    ...(flags.kerberos && { kerberos: true }),
    ...(flags.httpfs && { httpfs: true }),
    ...(flags.principal !== undefined && { principal: flags.principal }),
    ...(flags.keytab !== undefined && { keytab: resolve(flags.keytab) }),
  };
  const network = networkPolicyOf(flags, config);
  return {
    plugins: pluginsOf(flags, config),
    ...(Object.keys(hdfs).length > 0 && { hdfs }),
    ...(Object.keys(network).length > 0 && { network }),
    ...(log && { log }),
  };
}
