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
  /** File systems to get delegation tokens for; those the services' files are read from are added. */
  fileSystems?: readonly string[];
  acls?: Acls;
  master?: Master;
  services: Readonly<Record<string, Service>>;
}

// A delegation token is needed for every HDFS the containers read from; `hdfs:///…` is the default FS, which skein
// always covers.
const TOKEN_FILE_SYSTEM = /^((?:hdfs|webhdfs|swebhdfs|viewfs):\/\/[^/]+)\//i;

/** The file systems named with an authority in the services' (and master's) file sources. */
function fileSystemsOf(services: Iterable<Service>, master: Master | undefined) {
  const sources = [...services, ...(master ? [master] : [])].flatMap((holder) =>
    Object.values(holder.files ?? {}).map((file) => file.source),
  );
  return sources.flatMap((source) => TOKEN_FILE_SYSTEM.exec(source)?.[1] ?? []);
}

/** A skein ApplicationSpec, checked for what skein would refuse (the error names the field). */
export function applicationSpec(options: ApplicationSpecOptions): ApplicationSpec {
  const fileSystems = [
    ...new Set([
      ...(options.fileSystems ?? []),
      ...fileSystemsOf(Object.values(options.services), options.master),
    ]),
  ];
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
