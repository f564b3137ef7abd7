import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { firstLine } from "@cluster-pack/errors";
import { StorageError } from "./errors.js";
import type { FileSystemFactory, FileSystemPlugin, ResolvedPath, StorageOptions } from "./file-system.js";
import { localFileSystem, localPathOf } from "./local-file-system.js";

/** Schemes we ship adapters for, mapped to the package that serves them (imported on first use). */
export const builtinAdapters: Readonly<Record<string, string>> = {
  s3: "@cluster-pack/fs-s3",
  s3a: "@cluster-pack/fs-s3",
  hdfs: "@cluster-pack/fs-hdfs",
  webhdfs: "@cluster-pack/fs-hdfs",
  swebhdfs: "@cluster-pack/fs-hdfs",
  viewfs: "@cluster-pack/fs-hdfs",
};

/** Environment variable listing plugin packages (comma-separated) to load before resolving. */
export const PLUGINS_ENV = "CLUSTER_PACK_PLUGINS";

interface Registry {
  factories: Map<string, FileSystemFactory>;
  loadedPlugins: Map<string, Promise<FileSystemPlugin>>;
}

// Kept on globalThis so that two copies of this package (a plugin bundling its own) share one registry.
const registryKey = Symbol.for("@cluster-pack/fs.registry");
const shared = globalThis as Record<symbol, Registry | undefined>;
shared[registryKey] ??= { factories: new Map(), loadedPlugins: new Map() };
const registry: Registry = shared[registryKey];

function normalizeScheme(scheme: string): string {
  const normalized = scheme.toLowerCase().replace(/:(\/\/)?$/, "");
  if (!/^[a-z][a-z0-9+.-]*$/.test(normalized)) {
    throw new StorageError("INVALID_ARGUMENT", `"${scheme}" is not a valid URI scheme`);
  }
  return normalized;
}

/** Adds (or replaces) the adapter for a scheme. */
export function registerFileSystem(scheme: string, factory: FileSystemFactory): void {
  registry.factories.set(normalizeScheme(scheme), factory);
}

/** Removes a scheme's adapter; the built-in schemes fall back to lazy loading again. */
export function unregisterFileSystem(scheme: string): void {
  registry.factories.delete(normalizeScheme(scheme));
}

/** Schemes that resolve right now without loading anything. */
export function registeredSchemes(): string[] {
  return ["file", ...registry.factories.keys()].sort();
}

function isPlugin(value: unknown): value is FileSystemPlugin {
  const candidate = value as Partial<FileSystemPlugin> | undefined;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    Array.isArray(candidate.schemes) &&
    typeof candidate.factory === "function"
  );
}

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const notFound =
    code === "ERR_MODULE_NOT_FOUND" ||
    code === "MODULE_NOT_FOUND" ||
    (typeof message === "string" && /cannot find (package|module)|failed to (load|resolve)/i.test(message));
  return notFound && typeof message === "string" && message.includes(packageName);
}

/**
 * Imports a package by name: first as this package sees it (installed beside us), then from the working
 * directory, where an application's own plugins are installed.
 */
async function importPackage(packageName: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(packageName)) as Record<string, unknown>;
  } catch (error) {
    if (!isModuleNotFound(error, packageName)) throw error;
  }
  let resolved: string;
  try {
    resolved = createRequire(join(process.cwd(), "noop.js")).resolve(packageName);
  } catch {
    return undefined;
  }
  return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
}

const notInstalledDetail = (packageName: string) =>
  `plugin ${packageName} is not installed (npm install ${packageName})`;

/** Imports a plugin package and registers the schemes it serves. Importing the same package twice is free. */
export async function loadFileSystemPlugin(packageName: string): Promise<void> {
  let loading = registry.loadedPlugins.get(packageName);
  if (!loading) {
    loading = importPlugin(packageName);
    registry.loadedPlugins.set(packageName, loading);
    loading.catch(() => registry.loadedPlugins.delete(packageName));
  }
  const plugin = await loading;
  // Registered on every call: a scheme unregistered since the import comes back from the plugin list.
  for (const scheme of plugin.schemes) {
    if (!registry.factories.has(normalizeScheme(scheme))) registerFileSystem(scheme, plugin.factory);
  }
}

async function importPlugin(packageName: string): Promise<FileSystemPlugin> {
  let module: Record<string, unknown> | undefined;
  try {
    module = await importPackage(packageName);
  } catch (cause) {
    const reason = firstLine(cause);
    throw new StorageError("INVALID_ARGUMENT", `plugin ${packageName} failed to load: ${reason}`, { cause });
  }
  if (!module) throw new StorageError("INVALID_ARGUMENT", notInstalledDetail(packageName));
  const plugin = [module.default, module.fileSystemPlugin].find(isPlugin);
  if (!plugin) {
    throw new StorageError(
      "INVALID_ARGUMENT",
      `${packageName} is not a cluster-pack storage plugin: it exports no { schemes, factory } object`,
    );
  }
  return plugin;
}

/** Loads every plugin named in `options.plugins` and in `CLUSTER_PACK_PLUGINS`. */
export async function loadFileSystemPlugins(names: readonly string[] = []): Promise<void> {
  const fromEnvironment = (process.env[PLUGINS_ENV] ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of new Set([...names, ...fromEnvironment])) await loadFileSystemPlugin(name);
}

const schemePattern = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/** Whether a location is a URL (`s3://…`, `file:///…`) rather than a plain path. */
export const hasScheme = (uri: string) => schemePattern.test(uri);

/** The scheme a URI uses (`s3`, `hdfs`…), or `file` for plain paths and `file:` URLs. */
export function schemeOf(uri: string): string {
  const match = schemePattern.exec(uri);
  return match?.[1] ? match[1].toLowerCase() : "file";
}

/**
 * Finds the file system a URI lives on and the path inside it. Plain paths and `file://` are local;
 * other schemes come from a registered factory, a plugin, or a built-in adapter package imported on first use.
 */
export async function resolveFileSystem(uri: string, options: StorageOptions = {}): Promise<ResolvedPath> {
  if (!uri)
    throw new StorageError(
      "INVALID_ARGUMENT",
      "empty storage URI: give a path or a URL such as s3://bucket/key",
    );
  const scheme = schemeOf(uri);
  if (scheme === "file") return { fs: localFileSystem(), path: localPathOf(uri) };

  await loadFileSystemPlugins(options.plugins);
  let factory = registry.factories.get(scheme);
  const adapterPackage = builtinAdapters[scheme];
  if (!factory && adapterPackage) {
    await loadFileSystemPlugin(adapterPackage).catch((cause: unknown) => {
      const notInstalled =
        cause instanceof StorageError && cause.detail === notInstalledDetail(adapterPackage);
      const detail = notInstalled
        ? `install ${adapterPackage} to use ${scheme}:// URLs`
        : (cause as StorageError).detail;
      throw new StorageError("INVALID_ARGUMENT", detail, { uri, cause });
    });
    factory = registry.factories.get(scheme);
  }
  if (!factory) {
    throw new StorageError(
      "INVALID_ARGUMENT",
      `no storage adapter for ${scheme}:// (known: ${[...new Set([...registeredSchemes(), ...Object.keys(builtinAdapters)])].sort().join(", ")}; a plugin package adds others)`,
      { uri },
    );
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch (cause) {
    throw new StorageError("INVALID_ARGUMENT", "not a valid URL", { uri, cause });
  }
  return factory(url, options);
}
