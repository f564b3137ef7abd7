// Skein's application specification, field for field (jcrist/skein, docs "Specification"). The keys keep skein's
// snake_case so that these objects are the document itself: `toYaml(spec)` writes them unchanged.

/** `archive`: YARN unpacks it (`.zip`, `.tar.gz`, `.tgz`) into a directory named after its key; `file`: as is. */
export type FileType = "archive" | "file";

/**
 * Who may share a localized copy on a node: `application` (this application's containers), `private` (this user's
 * applications, cached between them), `public` (every user).
 */
export type FileVisibility = "application" | "private" | "public";

/** A resource YARN localizes into the container's working directory, under its key in `files`. */
export interface SkeinFile {
  /** Where it is stored (`hdfs://`, `s3a://`, or a local path skein uploads to its staging directory). */
  source: string;
  type: FileType;
  visibility: FileVisibility;
}

export interface Resources {
  /** MiB as a number, or a size with a unit skein reads (`"2 GiB"`, `"512 MiB"`, `"4 GB"`). */
  memory: number | string;
  vcores: number;
  /** `yarn.io/gpu` (Hadoop ≥ 3.1). */
  gpus?: number;
  /** `yarn.io/fpga` (Hadoop ≥ 3.1). */
  fpgas?: number;
}

export interface Service {
  instances: number;
  /** Restarts allowed for the whole service: `-1` always restarts, `0` never. */
  max_restarts: number;
  /** Keep the application running when the service has failed more than `max_restarts` times. */
  allow_failures?: boolean;
  resources: Resources;
  /** Container file name (no directories) → resource. */
  files: Record<string, SkeinFile>;
  env: Record<string, string>;
  /** A bash script, run in the container's working directory. */
  script: string;
  /** Services that must have started first. */
  depends?: string[];
  node_label?: string;
  nodes?: string[];
  racks?: string[];
  relax_locality?: boolean;
}

/** Application ACLs; the owner always has every access. Ignored by YARN unless `enable` is true. */
export interface Acls {
  enable: boolean;
  view_users?: string[];
  view_groups?: string[];
  modify_users?: string[];
  modify_groups?: string[];
  ui_users?: string[];
}

export type LogLevel = "all" | "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "off";

/** The application master; with a `script`, it also runs the application driver. */
export interface Master {
  resources?: Resources;
  files?: Record<string, SkeinFile>;
  env?: Record<string, string>;
  script?: string;
  log_level?: LogLevel;
  log_config?: string;
}

export interface ApplicationSpec {
  name: string;
  queue: string;
  /** Submit as this user (needs proxy-user rights). */
  user?: string;
  /** Default node label of every service. */
  node_label?: string;
  /** Submission attempts (failures of the application master at start). */
  max_attempts: number;
  tags?: string[];
  /** Hadoop file systems to get delegation tokens for, besides the default one. */
  file_systems?: string[];
  acls?: Acls;
  master?: Master;
  services: Record<string, Service>;
}
