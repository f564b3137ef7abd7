import { fileSystemsToName } from "@cluster-pack/env-usage";
import type { Acls, ApplicationSpec, Master, Service } from "./application-spec.js";
import { validateApplicationSpec } from "./validate.js";

export interface ApplicationSpecOptions {
  /** Default `cluster-pack`. */
  name?: string;
  /** Default `default`. */
  queue?: string;
  user?: string;
  /** Default node label of every service. */
  nodeLabel?: string;
  /** Default 1 (skein's recommendation). */
  maxAttempts?: number;
  tags?: readonly string[];
  /**
   * File systems to get delegation tokens for, kept first and as given; those the services' (and master's) files are
   * read from are added after them, each once.
   */
  fileSystems?: readonly string[];
  /**
   * Hadoop's `fs.defaultFS`, which skein always gets a token for. When given, every file system the files are read
   * from other than this one (`s3a://` and `viewfs://` included, `file:` never) is added to `file_systems`; without
   * it, only the HDFS ones named with an authority are.
   */
  defaultFileSystem?: string;
  acls?: Acls;
  master?: Master;
  services: Readonly<Record<string, Service>>;
}

// With the default FS unknown, a delegation token is asked for every HDFS the containers read from; `hdfs:///…` is
// the default FS, which skein always covers.
const TOKEN_FILE_SYSTEM = /^((?:hdfs|webhdfs|swebhdfs|viewfs):\/\/[^/]+)\//i;

/** The file sources of the services (and the master). */
const sourcesOf = (services: Iterable<Service>, master: Master | undefined) =>
  [...services, ...(master ? [master] : [])].flatMap((holder) =>
    Object.values(holder.files ?? {}).map((file) => file.source),
  );

/** The file systems to add to the given ones for the sources: see `ApplicationSpecOptions.defaultFileSystem`. */
function fileSystemsOf(sources: readonly string[], given: readonly string[], defaultFileSystem?: string) {
  if (defaultFileSystem !== undefined) return fileSystemsToName(sources, defaultFileSystem, given);
  return sources.flatMap((source) => TOKEN_FILE_SYSTEM.exec(source)?.[1] ?? []);
}

/** A skein ApplicationSpec, checked for what skein would refuse (the error names the field). */
export function applicationSpec(options: ApplicationSpecOptions): ApplicationSpec {
  const given = options.fileSystems ?? [];
  const sources = sourcesOf(Object.values(options.services), options.master);
  const fileSystems = [...new Set([...given, ...fileSystemsOf(sources, given, options.defaultFileSystem)])];
  const spec: ApplicationSpec = {
    name: options.name ?? "cluster-pack",
    queue: options.queue ?? "default",
    ...(options.user && { user: options.user }),
    ...(options.nodeLabel && { node_label: options.nodeLabel }),
    max_attempts: options.maxAttempts ?? 1,
    ...(options.tags && options.tags.length > 0 && { tags: [...options.tags] }),
    ...(fileSystems.length > 0 && { file_systems: fileSystems }),
    ...(options.acls && { acls: options.acls }),
    ...(options.master && { master: options.master }),
    services: { ...options.services },
  };
  validateApplicationSpec(spec);
  return spec;
}
