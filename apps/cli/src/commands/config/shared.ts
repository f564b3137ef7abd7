// What every `cluster-pack config` engine shares: where the environment is, what a YARN job runs, with what.

import { stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import {
  type ApplicationSpec,
  type FileVisibility,
  type PythonEntryPoint,
  type Resources,
  ticketCacheFile,
  toJson,
  toYaml,
} from "@cluster-pack/yarn";
import {
  archiveFormats,
  type EditableZip,
  getPyenvUsageFromArchive,
  hadoopDefaultFileSystem,
  hasScheme,
  locateEnv,
} from "cluster-pack";
import { InvalidArgumentError, Option } from "commander";
import type { ProjectConfig } from "../../config.js";
import {
  type EnvironmentFlags,
  environmentOptions,
  environmentOptionsOf,
  fsArgsOf,
  listOption,
} from "../../options.js";
import { emitConfig, type Output, style } from "../../render.js";
import { UsageError } from "../../usage-error.js";
import { uploadInterruptibly } from "../upload.js";

/** Flags of every `config` engine. `format` is the renderer here; the archive's format is `--archive-format`. */
export interface ConfigFlags extends EnvironmentFlags {
  packagePath?: string;
  upload?: boolean;
  force?: boolean;
  offline?: boolean;
  archiveFormat?: string;
}

/** The environment a configuration describes: the archive and the editable code shipped beside it. */
export interface ShippedEnv {
  packagePath: string;
  editable: EditableZip[];
  editableIndex?: string;
}

/** Flags of the engines whose spec runs in YARN containers (`yarn`, `tf`, `dask`). */
export interface TicketCacheFlags {
  shipTicketCache?: boolean;
}

export interface JobFlags extends ConfigFlags, TicketCacheFlags {
  module?: string;
  script?: string;
  code?: string;
  name?: string;
  queue?: string;
  nodeLabel?: string;
  user?: string;
  maxAttempts?: number;
  tag?: string[];
  fileSystem?: string[];
  memory?: number | string;
  vcores?: number;
  gpus?: number;
  maxRestarts?: number;
  env?: string[];
  visibility?: FileVisibility;
}

export const integer = (min: number) => (value: string) => {
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || parsed < min)
    throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
  return parsed;
};

/** `4096` is MiB (skein's reading of a bare number); anything else goes to skein as a size with a unit. */
export const memory = (value: string) => (/^\d+$/.test(value.trim()) ? Number(value) : value.trim());

export const repeated = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** `KEY=VALUE` items of a repeated flag, in order (a later key wins). */
export function keyValues(items: readonly string[] | undefined, flag: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of items ?? []) {
    const separator = item.indexOf("=");
    if (separator <= 0)
      throw new UsageError(`${flag}: "${item}" is not KEY=VALUE`, `write e.g. ${flag} KEY=value`);
    pairs[item.slice(0, separator)] = item.slice(separator + 1);
  }
  return pairs;
}

export const renderers = {
  spark: ["submit", "conf", "python", "json"],
  yarn: ["yaml", "json"],
  tf: ["yaml", "json", "tf-config"],
  dask: ["yaml", "json", "commands"],
} as const;

/** The options that say which environment to describe, and how to upload it with `--upload`. */
export function shippingOptions(engine: keyof typeof renderers): Option[] {
  const formats = renderers[engine];
  return [
    new Option("--format <format>", `what to print (default ${formats[0]})`).choices(formats),
    new Option("--json", "same as --format json"),
    new Option("--package-path <uri>", "the archive (default: where upload puts the current environment)"),
    new Option(
      "--upload",
      "upload the environment first (nothing is sent when the stored archive is current)",
    ),
    new Option("--force", "with --upload: pack and upload even when the stored archive is current"),
    new Option(
      "--offline",
      "do not read the store: describe the archive from its path, with the editable code this environment ships",
    ),
    new Option(
      "--archive-format <format>",
      "the archive's format (default: the archive's extension, else the packer's)",
    ).choices([...archiveFormats]),
    ...environmentOptions().filter((option) => option.long !== "--format" && option.long !== "--json"),
  ];
}

/** The opt-in to ship the user's Kerberos ticket (a credential) to the containers. */
export const shipTicketCacheOption = () =>
  new Option(
    "--ship-ticket-cache",
    "ship the Kerberos ticket cache KRB5CCNAME names to every container (your ticket: the job can use it)",
  );

/** The options of a YARN job (skein services): what to run, where, with which resources; then the shipping ones. */
export function jobOptions(engine: "yarn" | "tf"): Option[] {
  return [
    new Option("--module <name>", "run this module (python -m)"),
    new Option("--script <path>", "ship this script and run it"),
    new Option("--code <python>", "run this code (python -c)"),
    new Option("--name <name>", "the application's name"),
    new Option("--queue <queue>", "the YARN queue (default: default)"),
    new Option("--node-label <label>", "run on nodes with this label"),
    new Option("--user <user>", "submit as this user (needs proxy-user rights)"),
    new Option("--max-attempts <n>", "application master attempts (default 1)").argParser(integer(1)),
    listOption("--tag <tag>", "application tags"),
    listOption("--file-system <uri>", "more file systems to get delegation tokens for"),
    new Option("--memory <size>", 'per container: MiB, or a size such as "4 GiB" (default 1 GiB)').argParser(
      memory,
    ),
    new Option("--vcores <n>", "per container (default 1)").argParser(integer(1)),
    new Option("--gpus <n>", "per container").argParser(integer(0)),
    new Option(
      "--max-restarts <n>",
      "restarts allowed per service; -1 always restarts (default 0)",
    ).argParser(integer(-1)),
    new Option("--env <KEY=VALUE>", "an environment variable of the containers (repeatable)").argParser(
      repeated,
    ),
    new Option("--visibility <visibility>", "who shares the localized environment on a node").choices([
      "application",
      "private",
      "public",
    ]),
    shipTicketCacheOption(),
    ...shippingOptions(engine),
  ];
}

export function formatOf(flags: ConfigFlags, engine: keyof typeof renderers): string {
  if (flags.json && flags.format && flags.format !== "json")
    throw new UsageError(`--json and --format ${flags.format} disagree`, "pass one of them");
  return flags.json ? "json" : (flags.format ?? renderers[engine][0]);
}

/**
 * Hadoop's `fs.defaultFS`, from the configuration Hadoop itself would read (`HADOOP_CONF_DIR`, …): the emitters name
 * the store's file system for delegation tokens when it is another one. Undefined without a Hadoop configuration.
 */
export const defaultFileSystem = () => hadoopDefaultFileSystem(process.env);

/** The environment to describe: uploaded first with `--upload`, else found in the store (or named, `--offline`). */
export async function shippedEnvOf(
  flags: ConfigFlags,
  config: ProjectConfig,
  output: Output,
): Promise<ShippedEnv> {
  const packagePath = flags.packagePath ?? config.packagePath;
  const { format: _renderer, archiveFormat, ...rest } = flags;
  const environment = environmentOptionsOf(
    { ...rest, ...(archiveFormat && { format: archiveFormat }) },
    config,
  );
  const fsArgs = fsArgsOf(flags, config, output.verbose);
  if (flags.force && !flags.upload)
    throw new UsageError("--force only applies with --upload", "add --upload, or drop --force");
  if (flags.offline && flags.upload)
    throw new UsageError("--offline and --upload exclude each other", "drop one of them");
  if (!flags.upload)
    return locateEnv(packagePath, {
      ...(environment.packer && { packer: environment.packer }),
      ...(environment.format && { format: environment.format }),
      ...(environment.python && { python: environment.python }),
      ...(flags.offline && { offline: true }),
      fsArgs,
    });
  const progress = output.progress();
  try {
    const shipped = await uploadInterruptibly({
      ...environment,
      ...(packagePath !== undefined && { packagePath }),
      ...(flags.force && { forceUpload: true }),
      fsArgs,
      onProgress: progress,
    });
    progress.stop();
    output.note(
      shipped.uploaded
        ? `${style.green("uploaded")} ${shipped.packagePath}`
        : `${style.green("up to date")} ${shipped.packagePath}`,
    );
    return shipped;
  } finally {
    progress.stop();
  }
}

export function entryPointOf(flags: JobFlags, args: readonly string[]): PythonEntryPoint {
  const given = [
    flags.module && "--module",
    flags.script && "--script",
    flags.code !== undefined && "--code",
  ].filter(Boolean);
  if (given.length !== 1)
    throw new UsageError(
      given.length === 0
        ? "say what to run: --module, --script or --code"
        : `${given.join(" and ")} exclude each other`,
      "e.g. --module my_project.train -- --epochs 3",
    );
  if (flags.module) return { module: flags.module, args };
  if (flags.script) {
    // skein reads a relative source against the spec file's directory: make it this directory's.
    const script = hasScheme(flags.script) || isAbsolute(flags.script) ? flags.script : resolve(flags.script);
    return { script, args };
  }
  return { code: flags.code ?? "", args };
}

export function resourcesOf(flags: JobFlags): Resources | undefined {
  if (flags.memory === undefined && flags.vcores === undefined && flags.gpus === undefined) return undefined;
  return {
    memory: flags.memory ?? "1 GiB",
    vcores: flags.vcores ?? 1,
    ...(flags.gpus !== undefined && { gpus: flags.gpus }),
  };
}

/**
 * `KRB5CCNAME`, to ship, with `--ship-ticket-cache` only: a ticket-granting ticket is a credential, and DESIGN
 * keeps credentials out of printed configs unless asked. Without the flag, a note says the ticket stays here.
 */
export async function ticketCacheToShip(
  flags: TicketCacheFlags,
  output: Output,
): Promise<string | undefined> {
  const krb5ccname = process.env.KRB5CCNAME;
  const file = ticketCacheFile(krb5ccname);
  if (!flags.shipTicketCache) {
    if (file)
      output.note("KRB5CCNAME is set: the Kerberos ticket cache is not shipped (--ship-ticket-cache does)");
    return undefined;
  }
  const hint = "run kinit with a file cache (KRB5CCNAME=FILE:/tmp/krb5cc_$UID), or drop --ship-ticket-cache";
  if (!file)
    throw new UsageError(
      krb5ccname
        ? `--ship-ticket-cache: KRB5CCNAME=${krb5ccname} is not a file cache; only a file can be shipped`
        : "--ship-ticket-cache: KRB5CCNAME is not set",
      hint,
    );
  const exists = await stat(file).then(
    (info) => info.isFile(),
    () => false,
  );
  if (!exists)
    throw new UsageError(`--ship-ticket-cache: KRB5CCNAME names ${file}, which is not a file here`, hint);
  output.verbose(`shipping the Kerberos ticket cache ${file}`);
  return krb5ccname;
}

/**
 * What a YARN job's spec is made of: what to run, the environment (uploaded first with `--upload`), what every
 * service shares and the application's settings. Flags are checked before anything is uploaded.
 */
export async function jobOf(flags: JobFlags, args: readonly string[], config: ProjectConfig, output: Output) {
  const run = entryPointOf(flags, args);
  const env = keyValues(flags.env, "--env");
  const krb5ccname = await ticketCacheToShip(flags, output);
  const shipped = await shippedEnvOf(flags, config, output);
  const resources = resourcesOf(flags);
  const defaultFs = await defaultFileSystem();
  return {
    pyenv: getPyenvUsageFromArchive(shipped.packagePath),
    serviceOptions: {
      run,
      editable: shipped.editable,
      ...(shipped.editableIndex && { editableIndex: shipped.editableIndex }),
      env,
      ...(resources && { resources }),
      ...(flags.visibility && { visibility: flags.visibility }),
      ...(krb5ccname && { krb5ccname }),
    },
    applicationOptions: {
      ...applicationOptionsOf(flags),
      ...(defaultFs !== undefined && { defaultFileSystem: defaultFs }),
    },
  };
}

/** A skein spec on stdout, in the format asked for. */
export const writeSpec = (spec: ApplicationSpec, format: string) =>
  emitConfig(format === "json" ? toJson(spec) : toYaml(spec));

function applicationOptionsOf(flags: JobFlags) {
  return {
    ...(flags.name && { name: flags.name }),
    ...(flags.queue && { queue: flags.queue }),
    ...(flags.nodeLabel && { nodeLabel: flags.nodeLabel }),
    ...(flags.user && { user: flags.user }),
    ...(flags.maxAttempts !== undefined && { maxAttempts: flags.maxAttempts }),
    ...(flags.tag && { tags: flags.tag }),
    ...(flags.fileSystem && { fileSystems: flags.fileSystem }),
  };
}
