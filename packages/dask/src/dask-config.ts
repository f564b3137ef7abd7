import {
  condaUnpackCommand,
  type EditableCode,
  EnvUsageError,
  type PythonEnvDescription,
  shellJoin,
  shellQuote,
} from "@cluster-pack/env-usage";
import { editableDirectoryName, envFiles, envScript, type SkeinFile } from "@cluster-pack/yarn";

export interface DaskOptions extends EditableCode {
  /**
   * Where workers connect (`tcp://10.0.0.5:8786`). Default: the `schedulerFile`, else whatever
   * `DASK_SCHEDULER_ADDRESS` says on the node (distributed's own fallback).
   */
  schedulerAddress?: string;
  /** A file on storage both sides see: the scheduler writes its address there, workers read it. */
  schedulerFile?: string;
  /** More `dask-scheduler` flags: `--host`, `--port`, `--dashboard-address`. */
  schedulerArgs?: readonly string[];
  /** More `dask-worker` flags: `--nthreads`, `--memory-limit`, `--name`, `--no-nanny`. */
  workerArgs?: readonly string[];
  /** More environment variables for the scheduler and the workers. */
  env?: Readonly<Record<string, string>>;
}

/** One Dask process run from a working directory that holds `files`, as plain data and as a script. */
export interface DaskProcess {
  /** Run from the working directory, with `environmentVariables` set. */
  command: string[];
  /** Relative paths are relative to the working directory (Python makes `PYTHONPATH` absolute at start). */
  environmentVariables: Record<string, string>;
  /** What to place in the working directory, by name: `archive`s unpacked into a directory of that name. */
  files: Record<string, SkeinFile>;
  /**
   * A shell command to run first, from the working directory, that must succeed: for a venv or conda archive, its
   * `bin/conda-unpack` when it has one (a conda archive's), which writes the real path into the files that embed it
   * (idempotent, safe when processes share the unpacked archive). Absent for a zipapp or the unpack layout.
   */
  setupCommand?: string;
  /** A bash script doing the same: the variables, the setup command, then `exec` of the command. */
  script: string;
}

export interface DaskConfig {
  scheduler: DaskProcess;
  worker: DaskProcess;
}

const PEX_ROOT = "./.pex";

/**
 * The Dask scheduler and worker commands in a shipped environment (`<interpreter> -m distributed.cli.dask_worker
 * <scheduler>`), the files each node needs in its working directory (the environment under its alias, each
 * editable zip unpacked as `<name>.zip`, as `@cluster-pack/yarn` ships them) and the environment the processes
 * need: `PEX_ROOT` inside the working directory and the editable code on `PYTHONPATH`.
 */
export function daskConfig(env: PythonEnvDescription, options: DaskOptions = {}): DaskConfig {
  const editable = options.editable ?? [];
  const code: EditableCode = {
    editable,
    ...(options.editableIndex && { editableIndex: options.editableIndex }),
  };
  const files = envFiles(env, code);
  const userEnv = { ...options.env };
  for (const name of Object.keys(userEnv))
    if (!/^[A-Za-z_]\w*$/.test(name))
      throw new EnvUsageError("not an environment variable name: use letters, digits and _", `env.${name}`);
  const pythonPath = [".", ...editable.map((zip) => editableDirectoryName(zip.name))];
  const environmentVariables: Record<string, string> = {
    PEX_ROOT,
    ...userEnv,
    PYTHONPATH: [...pythonPath, ...(userEnv.PYTHONPATH ? [userEnv.PYTHONPATH] : [])].join(":"),
  };
  const setupCommand = condaUnpackCommand(env);
  const process = (command: string[]): DaskProcess => ({
    command,
    environmentVariables: { ...environmentVariables },
    files: structuredClone(files),
    ...(setupCommand && { setupCommand }),
    // The given variables first: the script's own PYTHONPATH line keeps what is already there.
    script:
      Object.entries(userEnv)
        .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
        .join("") + envScript(env, command, { editable, env: userEnv }),
  });

  const schedulerFile = options.schedulerFile ? ["--scheduler-file", options.schedulerFile] : [];
  const connectTo = options.schedulerAddress ? [options.schedulerAddress] : schedulerFile;
  return {
    scheduler: process([
      env.interpreterCmd,
      "-m",
      "distributed.cli.dask_scheduler",
      ...schedulerFile,
      ...(options.schedulerArgs ?? []),
    ]),
    worker: process([
      env.interpreterCmd,
      "-m",
      "distributed.cli.dask_worker",
      ...connectTo,
      ...(options.workerArgs ?? []),
    ]),
  };
}

/** A process's command as one shell line, with its environment variables before it, after its setup command. */
export const toDaskCommandLine = (process: DaskProcess) =>
  `${process.setupCommand ? `${process.setupCommand} && ` : ""}${[
    ...Object.entries(process.environmentVariables).map(([name, value]) => `${name}=${shellQuote(value)}`),
    shellJoin(process.command),
  ].join(" ")}\n`;
