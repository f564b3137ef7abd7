import {
  builtinAdapters,
  type FileSystem,
  type ResolvedPath,
  registeredSchemes,
  registerFileSystem,
  resolveFileSystem,
  type StorageOptions,
  schemeOf,
} from "@cluster-pack/fs";

interface PluginModule {
  fileSystemPlugin?: { schemes: readonly string[]; factory: Parameters<typeof registerFileSystem>[1] };
}

/**
 * Resolves a storage URI. The S3 and HDFS adapters are optional dependencies of this package: they are imported from
 * here first (under pnpm's strict layout `@cluster-pack/fs` cannot see packages installed beside us), and when
 * they are not installed `@cluster-pack/fs` gives its one-line "install @cluster-pack/fs-s3" error.
 */
export async function resolveStorage(uri: string, options: StorageOptions = {}): Promise<ResolvedPath> {
  const scheme = schemeOf(uri);
  const adapter = builtinAdapters[scheme];
  if (adapter && !registeredSchemes().includes(scheme)) {
    try {
      const module = (await import(/* @vite-ignore */ adapter)) as PluginModule;
      const plugin = module.fileSystemPlugin;
      if (plugin)
        for (const served of plugin.schemes)
          if (!registeredSchemes().includes(served)) registerFileSystem(served, plugin.factory);
    } catch {
      // Not installed beside us: @cluster-pack/fs looks for it itself and explains what to install.
    }
  }
  return resolveFileSystem(uri, options);
}

/** The directory part of a path in a file system's own path space. */
export const parentOf = (path: string) => path.replace(/\/+$/, "").replace(/\/[^/]*$/, "") || "/";

/** A small stored file (metadata, an index) as text. */
export async function readTextFile(fs: FileSystem, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await fs.open(path)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString("utf8");
}
