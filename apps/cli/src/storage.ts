import {
  type FileSystemFactory,
  type ResolvedPath,
  registeredSchemes,
  registerFileSystem,
  resolveFileSystem,
  type StorageOptions,
  schemeOf,
} from "@cluster-pack/fs";

interface PluginModule {
  fileSystemPlugin?: { schemes: readonly string[]; factory: FileSystemFactory };
}

/** The adapters the CLI ships with, imported on first use (the S3 one loads the AWS SDK). */
const adapters: Readonly<Record<string, () => Promise<PluginModule>>> = {
  s3: () => import("@cluster-pack/fs-s3"),
  s3a: () => import("@cluster-pack/fs-s3"),
  hdfs: () => import("@cluster-pack/fs-hdfs"),
  webhdfs: () => import("@cluster-pack/fs-hdfs"),
};

/**
 * Resolves a storage URI for the CLI's own reads (`ls`). Under pnpm's strict layout `@cluster-pack/fs` cannot
 * see the adapters installed beside the CLI, so they are registered from here first.
 */
export async function resolveStore(uri: string, options: StorageOptions): Promise<ResolvedPath> {
  const scheme = schemeOf(uri);
  const load = adapters[scheme];
  if (load && !registeredSchemes().includes(scheme)) {
    const plugin = (await load()).fileSystemPlugin;
    if (plugin)
      for (const served of plugin.schemes)
        if (!registeredSchemes().includes(served)) registerFileSystem(served, plugin.factory);
  }
  return resolveFileSystem(uri, options);
}
