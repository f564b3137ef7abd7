import { type EnvListing, listEnvs } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { fsArgsOf, type GlobalFlags } from "../options.js";
import { createOutput, formatBytes, style, table, text } from "../render.js";

function describe(listing: EnvListing): string {
  if (listing.envs.length === 0) return `no archives in ${listing.uri}`;
  return table(
    listing.envs.map((env) => [
      env.packagePath.split("/").at(-1) ?? env.packagePath,
      env.size === undefined ? "" : formatBytes(env.size),
      text(env.metadata?.created ?? env.modifiedAt),
      env.metadata ? `python ${text(env.metadata.python_version) || "?"}` : "no metadata",
      Array.isArray(env.metadata?.package_installed)
        ? `${env.metadata.package_installed.length} packages`
        : "",
      text(env.metadata?.format),
      env.editable.length > 0 ? `${env.editable.length} editable` : "",
    ]),
    ["ARCHIVE", "SIZE", "CREATED", "PYTHON", "PACKAGES", "FORMAT", "EDITABLE"],
  ).replace(/^/, `${style.dim(listing.uri)}\n`);
}

export function lsCommand(config: ProjectConfig): Command {
  return new Command("ls")
    .description("list the archives in a store (a directory URI) with their metadata and editable code")
    .argument("<uri>", "a directory or an archive: /path, s3://bucket/prefix, hdfs:///user/me/envs…")
    .addOption(new Option("--json", "print the listing as one JSON object on stdout"))
    .action(async (uri: string, _flags: GlobalFlags, self: Command) => {
      const flags = self.optsWithGlobals<GlobalFlags>();
      const listing = await listEnvs(uri, { fsArgs: fsArgsOf(flags, config) });
      createOutput(flags).result(
        listing,
        () => describe(listing),
        listing.envs.map((env) => env.packagePath).join("\n"),
      );
    });
}
