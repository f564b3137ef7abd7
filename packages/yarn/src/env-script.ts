import {
  condaUnpackCommand,
  type EditableZip,
  type PythonEnvDescription,
  shellJoin,
} from "@cluster-pack/env-usage";
import { editableDirectoryName } from "./env-files.js";
import { TICKET_CACHE_NAME } from "./kerberos.js";

export interface EnvScriptOptions {
  /** The editable zips shipped with `envFiles`: their directories go on `PYTHONPATH`. */
  editable?: readonly EditableZip[];
  /** The container's environment as the service sets it: a `PEX_ROOT` there wins over ours. */
  env?: Readonly<Record<string, string>>;
  /** Whether the ticket cache was shipped (as `krb5cc`). */
  ticketCache?: boolean;
}

/**
 * The bash script that runs a command in the shipped environment, from the container's working directory: a conda
 * archive's `bin/conda-unpack` first, when the environment is one (a failure stops the container with its status,
 * rather than run the job on files still holding placeholders), then `PEX_ROOT` inside the working directory
 * (the container user often has no writable home), the working directory and the editable code on `PYTHONPATH`
 * (before whatever the service's env puts there), the shipped ticket cache, then the command (`exec`, so that
 * YARN's signals reach Python).
 */
export function envScript(
  env: PythonEnvDescription,
  command: readonly string[],
  options: EnvScriptOptions = {},
): string {
  const condaUnpack = condaUnpackCommand(env);
  const pythonPath = [
    ".",
    ...(options.editable ?? []).map((editable) => editableDirectoryName(editable.name)),
  ];
  const lines = [
    ...(condaUnpack ? [`${condaUnpack} || exit`] : []),
    ...(options.env?.PEX_ROOT === undefined ? ["export PEX_ROOT=./.pex"] : []),
    `export PYTHONPATH="${pythonPath.join(":")}\${PYTHONPATH:+:$PYTHONPATH}"`,
    ...(options.ticketCache ? [`export KRB5CCNAME="FILE:$PWD/${TICKET_CACHE_NAME}"`] : []),
    `exec ${shellJoin(command)}`,
  ];
  return `${lines.join("\n")}\n`;
}
