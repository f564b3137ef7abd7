import {
  type EditableCode,
  EnvUsageError,
  type PythonEnvDescription,
  toHadoopUri,
} from "@cluster-pack/env-usage";
import type { FileVisibility, Resources, Service, SkeinFile } from "./application-spec.js";
import { envFiles } from "./env-files.js";
import { envScript } from "./env-script.js";
import { TICKET_CACHE_NAME, ticketCacheFile } from "./kerberos.js";
import { type PythonEntryPoint, pythonCommand, scriptFileName } from "./python-entry-point.js";

/** What a service needs when nothing is said: skein requires resources; one small container. */
export const DEFAULT_RESOURCES: Resources = { memory: "1 GiB", vcores: 1 };

export interface PythonServiceOptions extends EditableCode {
  /** What the environment's Python runs. */
  run: PythonEntryPoint;
  /** Per container (default 1 GiB, 1 vcore). */
  resources?: Resources;
  instances?: number;
  /** Default 0: a failed container fails the service. */
  maxRestarts?: number;
  allowFailures?: boolean;
  nodeLabel?: string;
  depends?: readonly string[];
  /** The container's environment variables. */
  env?: Readonly<Record<string, string>>;
  /** More files for the container, by container file name (`s3://` sources are read as `s3a://`). */
  files?: Readonly<Record<string, SkeinFile>>;
  /** Visibility of the environment, the editable code and the script (default `application`). */
  visibility?: FileVisibility;
  /**
   * The launching user's `KRB5CCNAME`. When it points at a file, the ticket cache is shipped (visibility
   * `application`: a credential is never cached for other applications) and the container uses it.
   */
  krb5ccname?: string;
}

/** A skein service that runs a module, script or code in the shipped environment, with its editable code. */
export function pythonService(env: PythonEnvDescription, options: PythonServiceOptions): Service {
  const command = pythonCommand(env, options.run);
  const visibility = options.visibility ?? "application";
  const files: Record<string, SkeinFile> = envFiles(env, {
    visibility,
    ...(options.editable && { editable: options.editable }),
    ...(options.editableIndex && { editableIndex: options.editableIndex }),
  });
  const add = (name: string, file: SkeinFile) => {
    if (name in files)
      throw new EnvUsageError(
        `two files would be localized as "${name}" (${files[name]?.source} and ${file.source}); rename one`,
        `files.${name}`,
      );
    files[name] = file;
  };
  if ("script" in options.run)
    add(scriptFileName(options.run.script), {
      source: toHadoopUri(options.run.script),
      type: "file",
      visibility,
    });
  const ticketCache = ticketCacheFile(options.krb5ccname);
  if (ticketCache) add(TICKET_CACHE_NAME, { source: ticketCache, type: "file", visibility: "application" });
  for (const [name, file] of Object.entries(options.files ?? {}))
    add(name, { ...file, source: toHadoopUri(file.source) });

  const containerEnv = { ...options.env };
  return {
    instances: options.instances ?? 1,
    max_restarts: options.maxRestarts ?? 0,
    ...(options.allowFailures !== undefined && { allow_failures: options.allowFailures }),
    resources: { ...(options.resources ?? DEFAULT_RESOURCES) },
    files,
    env: containerEnv,
    script: envScript(env, command, {
      ...(options.editable && { editable: options.editable }),
      env: containerEnv,
      ticketCache: ticketCache !== undefined,
    }),
    ...(options.depends && options.depends.length > 0 && { depends: [...options.depends] }),
    ...(options.nodeLabel && { node_label: options.nodeLabel }),
  };
}
