import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { firstLine, hasScheme } from "cluster-pack";
import { parse as parseToml } from "smol-toml";
import { UsageError } from "./usage-error.js";

/**
 * What `[tool.cluster-pack]` in the project's pyproject.toml may set. Precedence: command-line flags, then this
 * table, then environment variables (the façade and the storage adapters read those).
 */
export interface ProjectConfig {
  /** The pyproject.toml the values came from. */
  file?: string;
  python?: string;
  packagePath?: string;
  packer?: string;
  format?: string;
  includeEditable?: boolean;
  withPython?: boolean;
  destPrefix?: string;
  /** `store`, `fast`, `best` or a level 0–9; a TOML integer is read as its digits. */
  compression?: string;
  exclude?: string[];
  compile?: boolean;
  additionalPackages?: string[];
  ignoredPackages?: string[];
  onlyPackages?: string[];
  indexUrl?: string;
  extraIndexUrls?: string[];
  findLinks?: string[];
  noIndex?: boolean;
  /** Leave out distributions nothing identifies (`--skip-broken`). */
  skipBroken?: boolean;
  /** `--requirements`: a requirements file to pack from, relative to the pyproject.toml. */
  requirements?: string;
  /** `--lock`: a lock file to pack from, relative to the pyproject.toml. */
  lock?: string;
  /** `--platform`: the target's wheel platform tags. */
  platforms?: string[];
  /** `--python-version`. */
  pythonVersion?: string;
  /** `--implementation`. */
  implementation?: string;
  plugins?: string[];
  /** Sets `CLUSTER_PACK_STORE` (the embedded store's directory). */
  store?: string;
  /** Sets `C_PACK_USER`. */
  user?: string;
  /** Sets `C_PACK_ENV_FALLBACK_PATH`. */
  envFallbackPath?: string;
  /** Seconds without a byte moving before a store request is given up (`--stall-timeout`). */
  stallTimeout?: number;
  /** How many times a failed store request is sent again (`--retries`). */
  retries?: number;
}

type Kind = "string" | "boolean" | "strings" | "level" | "number";
const keys: Record<string, [keyof ProjectConfig, Kind]> = {
  python: ["python", "string"],
  "package-path": ["packagePath", "string"],
  packer: ["packer", "string"],
  format: ["format", "string"],
  "include-editable": ["includeEditable", "boolean"],
  "with-python": ["withPython", "boolean"],
  "dest-prefix": ["destPrefix", "string"],
  compression: ["compression", "level"],
  exclude: ["exclude", "strings"],
  compile: ["compile", "boolean"],
  "additional-packages": ["additionalPackages", "strings"],
  "ignored-packages": ["ignoredPackages", "strings"],
  "only-packages": ["onlyPackages", "strings"],
  "index-url": ["indexUrl", "string"],
  "extra-index-urls": ["extraIndexUrls", "strings"],
  "find-links": ["findLinks", "strings"],
  "no-index": ["noIndex", "boolean"],
  "skip-broken": ["skipBroken", "boolean"],
  requirements: ["requirements", "string"],
  lock: ["lock", "string"],
  platforms: ["platforms", "strings"],
  "python-version": ["pythonVersion", "string"],
  implementation: ["implementation", "string"],
  plugins: ["plugins", "strings"],
  store: ["store", "string"],
  user: ["user", "string"],
  "env-fallback-path": ["envFallbackPath", "string"],
  "stall-timeout": ["stallTimeout", "number"],
  retries: ["retries", "number"],
};

const kindNames: Record<Kind, string> = {
  string: "a string",
  boolean: "a boolean",
  strings: "a list of strings",
  level: 'a level 0-9 or "store", "fast", "best"',
  number: "a number",
};

/** The nearest pyproject.toml from `start` upwards, or undefined. */
export async function findPyproject(start: string): Promise<{ file: string; text: string } | undefined> {
  let directory = resolve(start);
  for (;;) {
    const file = join(directory, "pyproject.toml");
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text !== undefined) return { file, text };
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

function asStrings(value: unknown): string[] | undefined {
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
  // `additional-packages = { pyarrow = "15.0.0" }`
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.every(([, version]) => typeof version === "string"))
      return entries.map(([name, version]) => (version.endsWith(".whl") ? version : `${name}==${version}`));
  }
  return undefined;
}

/** Reads `[tool.cluster-pack]` of the nearest pyproject.toml; a malformed table is a usage error. */
export async function loadProjectConfig(cwd = process.cwd()): Promise<ProjectConfig> {
  const found = await findPyproject(cwd);
  if (!found) return {};
  let document: Record<string, unknown>;
  try {
    document = parseToml(found.text) as Record<string, unknown>;
  } catch (error) {
    const line = firstLine(error);
    throw new UsageError(
      `${found.file}: invalid TOML: ${line}`,
      "fix the file or run from another directory",
    );
  }
  const tool = document.tool as Record<string, unknown> | undefined;
  const table = tool?.["cluster-pack"];
  if (table === undefined) return {};
  if (typeof table !== "object" || table === null || Array.isArray(table))
    throw new UsageError(`${found.file}: [tool.cluster-pack] must be a table`);
  const config: ProjectConfig = { file: found.file };
  const base = dirname(found.file);
  for (const [key, value] of Object.entries(table)) {
    const entry = keys[key];
    if (!entry)
      throw new UsageError(
        `${found.file}: unknown key "${key}" in [tool.cluster-pack]`,
        `known keys: ${Object.keys(keys).join(", ")}`,
      );
    const [field, kind] = entry;
    let parsed: unknown;
    if (kind === "string") parsed = typeof value === "string" ? value : undefined;
    else if (kind === "boolean") parsed = typeof value === "boolean" ? value : undefined;
    else if (kind === "number") parsed = typeof value === "number" ? value : undefined;
    else if (kind === "level")
      parsed = typeof value === "string" || typeof value === "number" ? String(value) : undefined;
    else parsed = asStrings(value);
    if (parsed === undefined)
      throw new UsageError(`${found.file}: [tool.cluster-pack] ${key} must be ${kindNames[kind]}`);
    (config as Record<string, unknown>)[field] = parsed;
  }
  // Paths in the file are relative to the file, not to wherever the command runs.
  const relativeToFile = (value: string | undefined) =>
    value === undefined || hasScheme(value) || isAbsolute(value) || value.startsWith("~")
      ? value
      : resolve(base, value);
  if (config.python?.includes("/")) config.python = relativeToFile(config.python) ?? config.python;
  if (config.packagePath) config.packagePath = relativeToFile(config.packagePath) ?? config.packagePath;
  if (config.store) config.store = relativeToFile(config.store) ?? config.store;
  if (config.requirements) config.requirements = relativeToFile(config.requirements) ?? config.requirements;
  if (config.lock) config.lock = relativeToFile(config.lock) ?? config.lock;
  if (config.findLinks) config.findLinks = config.findLinks.map((link) => relativeToFile(link) ?? link);
  return config;
}

/** Puts the table's environment-backed settings into the environment: they beat the variables already set. */
export function applyToEnvironment(config: ProjectConfig, env: NodeJS.ProcessEnv = process.env) {
  if (config.store) env.CLUSTER_PACK_STORE = config.store;
  if (config.user) env.C_PACK_USER = config.user;
  if (config.envFallbackPath) env.C_PACK_ENV_FALLBACK_PATH = config.envFallbackPath;
  if (config.indexUrl) env.C_PACK_PYPI_URL = config.indexUrl;
}
