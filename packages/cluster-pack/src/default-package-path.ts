import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { userInfo } from "node:os";
import { basename, resolve } from "node:path";
import type { ArchiveFormat, Packer } from "@cluster-pack/env-usage";
import { defaultFileSystemOf, embeddedStorePath, readHadoopConfigurationFrom } from "@cluster-pack/fs";
import type { Interpreter } from "@cluster-pack/python-env";
import { choosePacking } from "./packer.js";

/**
 * cluster-pack's `get_env_name`: `<venv basename>_<sha1(realpath)[:7]>`, so two projects that both call their
 * venv `.venv` do not overwrite each other's archive; `default` outside a venv.
 */
export function envNameOf(venvPrefix: string | undefined): string {
  if (!venvPrefix) return "default";
  let normalized = resolve(venvPrefix);
  try {
    normalized = realpathSync(normalized);
  } catch {
    // A prefix that does not exist (yet) is named from its absolute path, as os.path.realpath does.
  }
  const shortHash = createHash("sha1").update(normalized, "utf8").digest("hex").slice(0, 7);
  return `${basename(normalized)}_${shortHash}`;
}

/** `C_PACK_USER`, else the OS user (cluster-pack's `_get_current_user`). */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string {
  if (env.C_PACK_USER) return env.C_PACK_USER;
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? "unknown";
  }
}

/**
 * `fs.defaultFS` of the Hadoop configuration (`HADOOP_CONF_DIR`, else `$HADOOP_HOME/etc/hadoop`, else
 * /etc/hadoop/conf); undefined when there is no configuration or it names none.
 */
export async function hadoopDefaultFileSystem(
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  return defaultFileSystemOf((await readHadoopConfigurationFrom(env)).configuration);
}

/**
 * Where archives go when no `packagePath` is given: Hadoop's default file system when its configuration names one
 * (`hdfs:///`, resolved by the HDFS adapter from the same configuration; another one, such as `viewfs://cluster`, as
 * written), else the embedded local store.
 */
export async function defaultStore(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return storeOfDefaultFileSystem(await hadoopDefaultFileSystem(env), env);
}

/** `defaultStore` for a `fs.defaultFS` already read (undefined without a Hadoop configuration). */
export function storeOfDefaultFileSystem(
  defaultFs: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (defaultFs?.startsWith("hdfs://")) return "hdfs://";
  if (defaultFs && !defaultFs.startsWith("file:")) return defaultFs.replace(/\/+$/, "");
  return embeddedStorePath(env).replace(/\/+$/, "");
}

/** `<default store>/user/<user>/envs/<envName>.<format>`: a format's name is its extension. */
export async function archivePathInStore(
  envName: string,
  format: ArchiveFormat,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  return `${await defaultStore(env)}/user/${currentUser(env)}/envs/${envName}.${format}`;
}

/**
 * The name `uploadEnv` gives an environment's archive: the venv's, or the conda environment's when the conda packer
 * ships it; `default` for a system Python (and a conda environment packed as a pex, as cluster-pack names it).
 */
export function envNameOfInterpreter(
  interpreter: Pick<Interpreter, "kind" | "prefix">,
  packer: Packer,
): string {
  const named = interpreter.kind === "venv" || (interpreter.kind === "conda" && packer === "conda");
  return envNameOf(named ? interpreter.prefix : undefined);
}

/**
 * Where `uploadEnv` puts an environment's archive when no `packagePath` is given, with the packer and format chosen
 * as `uploadEnv` chooses them (the options, else the environment's kind): `<store>/user/<user>/envs/<envName>.<ext>`,
 * `.tar.gz` for venv and conda archives unless `format` is `zip`.
 */
export async function defaultPackagePathFor(
  interpreter: Pick<Interpreter, "kind" | "prefix">,
  options: { packer?: Packer; format?: ArchiveFormat; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const { packer, format } = choosePacking(options, interpreter.kind);
  return archivePathInStore(envNameOfInterpreter(interpreter, packer), format, options.env);
}
