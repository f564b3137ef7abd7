import { type UploadedEnv, uploadZip } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { interruptible } from "../interrupts.js";
import { fsArgsOf, type GlobalFlags } from "../options.js";
import { createOutput, formatBytes, style } from "../render.js";

interface UploadZipFlags extends GlobalFlags {
  packagePath?: string;
  force?: boolean;
}

function describe(result: Omit<UploadedEnv, "editable">): string {
  const size = result.metadata.size === undefined ? "" : ` (${formatBytes(result.metadata.size)})`;
  return result.uploaded
    ? `${style.green("uploaded")} ${result.envName}${size} → ${style.cyan(result.packagePath)}`
    : `${style.green("up to date")} ${result.packagePath}${size}: the store holds the same bytes`;
}

export function uploadZipCommand(config: ProjectConfig): Command {
  return new Command("upload-zip")
    .description(
      "upload a prebuilt archive (.pex, .pex.zip, a venv or conda .tar.gz/.tgz/.zip) with its metadata",
    )
    .argument("<archive>", "a local file, or an http(s) URL to download it from")
    .addOption(
      new Option("--package-path <uri>", "where it goes (default: the store's envs directory, same name)"),
    )
    .addOption(new Option("--force", "upload even when the store holds the same bytes"))
    .addOption(new Option("--json", "print the result as one JSON object on stdout"))
    .action(async (archive: string, _flags: UploadZipFlags, self: Command) => {
      const flags = self.optsWithGlobals<UploadZipFlags>();
      const output = createOutput(flags);
      const packagePath = flags.packagePath ?? config.packagePath;
      const fsArgs = fsArgsOf(flags, config, output.verbose);
      const progress = output.progress();
      let result: Omit<UploadedEnv, "editable">;
      try {
        result = await interruptible(
          (signal) =>
            uploadZip(archive, packagePath, {
              ...(flags.force && { forceUpload: true }),
              fsArgs,
              onProgress: progress,
              signal,
            }),
          { undone: `nothing was published${packagePath === undefined ? "" : ` at ${packagePath}`}` },
        );
      } finally {
        progress.stop();
      }
      output.result(result, () => describe(result), result.packagePath);
    });
}
