import {
  formatOfArchive,
  getPyenvUsageFromArchive,
  type PythonEnvDescription,
  packerOfFormat,
} from "cluster-pack";
import { Command, Option } from "commander";
import type { GlobalFlags } from "../options.js";
import { createOutput, style, table } from "../render.js";

/** How a node runs an archive: `getPyenvUsageFromArchive`, with the format and the packer its name implies. */
export interface ArchiveUsage extends PythonEnvDescription {
  format: string;
  /** Null for `.tar.gz`/`.zip`, which a venv and a conda archive share: only their entries tell. */
  packer: string | null;
}

function describe(usage: ArchiveUsage): string {
  return table([
    [style.bold("interpreter"), usage.interpreterCmd],
    [style.bold("localized as"), usage.destPath],
    [style.bold("unpacked"), usage.mustUnpack ? "yes (a YARN archive)" : "no (a YARN file)"],
    [style.bold("format"), usage.format],
    [style.bold("packer"), usage.packer ?? "venv or conda (the archive's entries tell)"],
  ]);
}

export function usageCommand(): Command {
  return new Command("usage")
    .description(
      "how a node runs an archive: the Python command, the name it is localized under, unpacked or not",
    )
    .argument("<archive>", "the archive's path or URI (only its name is read)")
    .addOption(new Option("--json", "print it as one JSON object on stdout"))
    .action((archive: string, _flags: GlobalFlags, self: Command) => {
      const format = formatOfArchive(archive);
      const usage: ArchiveUsage = {
        ...getPyenvUsageFromArchive(archive),
        format,
        packer: packerOfFormat(format) ?? null,
      };
      createOutput(self.optsWithGlobals<GlobalFlags>()).result(
        usage,
        () => describe(usage),
        usage.interpreterCmd,
      );
    });
}
