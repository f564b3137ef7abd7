import { type EnvListing, listEnvs } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { fsArgsOf, type GlobalFlags } from "../options.js";
import { createOutput, formatBytes, formatCount, style, table, text } from "../render.js";

/** A table cell of metadata: a glance, not the whole value (`--json` has that). */
const cell = (value: unknown) => text(value, 80);

/** A row per archive: what its metadata says, `?` for what it should say and does not (other tools, bad values). */
function describe(listing: EnvListing): string {
  if (listing.envs.length === 0) return `no archives in ${text(listing.uri)}`;
  return table(
    listing.envs.map((env) => {
      const metadata = env.metadata;
      const known = (value: unknown) => cell(value) || "?";
      return [
        text(env.packagePath.split("/").at(-1) ?? env.packagePath),
        env.size === undefined ? "" : formatBytes(env.size),
        cell(metadata?.created ?? env.modifiedAt),
        metadata ? `python ${known(metadata.python_version)}` : "no metadata",
        metadata
          ? metadata.package_installed
            ? formatCount(metadata.package_installed.length, "package")
            : "? packages"
          : "",
        metadata ? known(metadata.format) : "",
        env.editable.length > 0 ? `${env.editable.length} editable` : "",
      ];
    }),
    ["ARCHIVE", "SIZE", "CREATED", "PYTHON", "PACKAGES", "FORMAT", "EDITABLE"],
  ).replace(/^/, `${style.dim(text(listing.uri))}\n`);
}

export function lsCommand(config: ProjectConfig): Command {
  return new Command("ls")
    .description("list the archives in a store (a directory URI) with their metadata and editable code")
    .argument("<uri>", "a directory or an archive: /path, s3://bucket/prefix, hdfs:///user/me/envs…")
    .addOption(new Option("--json", "print the listing as one JSON object on stdout"))
    .action(async (uri: string, _flags: GlobalFlags, self: Command) => {
      const flags = self.optsWithGlobals<GlobalFlags>();
      const output = createOutput(flags);
      const listing = await listEnvs(uri, { fsArgs: fsArgsOf(flags, config, output.verbose) });
      // Once per archive, and before the table: a listing of what can be read is still useful.
      for (const env of listing.envs) if (env.metadataProblem) output.warn(env.metadataProblem);
      output.result(listing, () => describe(listing), listing.envs.map((env) => env.packagePath).join("\n"));
    });
}
