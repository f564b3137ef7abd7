import { basename } from "node:path";
import type { EnvironmentOptions, Packer } from "cluster-pack";
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
}

/** Flags of the commands that read an environment (`upload`, `pack`, `info`). */
export interface EnvironmentFlags extends GlobalFlags {
  python?: string;
  format?: string;
  includeEditable?: boolean;
  additionalPackages?: string[];
  ignoredPackages?: string[];
  onlyPackages?: string[];
  indexUrl?: string;
  extraIndexUrl?: string[];
  findLinks?: string[];
  /** commander's `--no-index`: false when given. */
  index?: boolean;
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

export const environmentOptions = () => [
  new Option("--python <python>", "the interpreter whose environment is shipped (default: the active venv)"),
  new Option("--format <format>", "archive format").choices(["pex", "pex.zip"]),
  new Option("--include-editable", "bake editable installs into the archive too"),
  listOption("--additional-packages <name==version>", "packages to add or replace (NAME==VERSION or a .whl)"),
  listOption("--ignored-packages <names>", "installed packages to leave out"),
  listOption("--only-packages <names>", "ship only these installed packages"),
  new Option("--index-url <url>", "package index for additional packages (default C_PACK_PYPI_URL)"),
  listOption("--extra-index-url <url>", "more package indexes"),
  listOption("--find-links <dir>", "local wheel directories"),
  new Option("--no-index", "never contact a package index"),
  new Option("--json", "print the result as one JSON object on stdout"),
];

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

/** Flags first, then `[tool.cluster-pack]`: the façade's environment options. */
export function environmentOptionsOf(flags: EnvironmentFlags, config: ProjectConfig): EnvironmentOptions {
  const format = flags.format ?? config.format;
  if (format !== undefined && format !== "pex" && format !== "pex.zip")
    throw new UsageError(`format "${format}" is not supported`, "use pex or pex.zip");
  const additional = flags.additionalPackages ?? config.additionalPackages;
  const ignored = flags.ignoredPackages ?? config.ignoredPackages;
  const only = flags.onlyPackages ?? config.onlyPackages;
  const python = flags.python ?? config.python;
  const includeEditable = flags.includeEditable ?? config.includeEditable;
  const indexUrl = flags.indexUrl ?? config.indexUrl;
  const extraIndexUrls = flags.extraIndexUrl ?? config.extraIndexUrls;
  const findLinks = flags.findLinks ?? config.findLinks;
  const noIndex = flags.index === false ? true : config.noIndex;
  return {
    ...(python !== undefined && { python }),
    ...(format !== undefined && { packer: format as Packer }),
    ...(includeEditable !== undefined && { includeEditable }),
    ...(additional !== undefined && { additionalPackages: parseAdditionalPackages(additional) }),
    ...(ignored !== undefined && { ignoredPackages: ignored }),
    ...(only !== undefined && { onlyPackages: only }),
    ...(indexUrl !== undefined && { indexUrl }),
    ...(extraIndexUrls !== undefined && { extraIndexUrls }),
    ...(findLinks !== undefined && { findLinks }),
    ...(noIndex !== undefined && { noIndex }),
  };
}

/** `--plugin`, then the table's `plugins`; the fs layer adds `CLUSTER_PACK_PLUGINS` itself. */
export function pluginsOf(flags: GlobalFlags, config: ProjectConfig): string[] {
  return [...new Set([...(flags.plugin ?? []), ...(config.plugins ?? [])])];
}
