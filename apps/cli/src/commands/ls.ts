import { type FileInfo, isStorageError } from "@cluster-pack/fs";
import { type ArchiveMetadata, readArchiveMetadata, resolveStorage } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { type GlobalFlags, pluginsOf } from "../options.js";
import { createOutput, formatBytes, style, table } from "../render.js";

const archiveExtensions = [".pex", ".pex.zip", ".tar.gz"];
const isArchive = (name: string) => archiveExtensions.some((extension) => name.endsWith(extension));

export interface ListedArchive {
  name: string;
  uri: string;
  size: number;
  modifiedAt?: string;
  /** The metadata beside the archive; absent when there is none (an archive without it is never trusted). */
  metadata?: Partial<ArchiveMetadata>;
}

export interface Listing {
  uri: string;
  archives: ListedArchive[];
}

const childUri = (parent: string, name: string) => `${parent.replace(/\/+$/, "")}/${name}`;

function describe(listing: Listing): string {
  if (listing.archives.length === 0) return `no archives in ${listing.uri}`;
  return table(
    listing.archives.map((a) => [
      a.name,
      formatBytes(a.size),
      a.metadata?.created ?? a.modifiedAt ?? "",
      a.metadata ? `python ${a.metadata.python_version ?? "?"}` : "no metadata",
      a.metadata?.package_installed ? `${a.metadata.package_installed.length} packages` : "",
      a.metadata?.format ?? "",
    ]),
    ["ARCHIVE", "SIZE", "CREATED", "PYTHON", "PACKAGES", "FORMAT"],
  ).replace(/^/, `${style.dim(listing.uri)}\n`);
}

export function lsCommand(config: ProjectConfig): Command {
  return new Command("ls")
    .description("list the archives in a store (a directory URI) with their metadata")
    .argument("<uri>", "a directory or an archive: /path, s3://bucket/prefix, hdfs:///user/me/envs…")
    .addOption(new Option("--json", "print the listing as one JSON object on stdout"))
    .action(async (uri: string, _flags: GlobalFlags, self: Command) => {
      const flags = self.optsWithGlobals<GlobalFlags>();
      const output = createOutput(flags);
      const { fs, path } = await resolveStorage(uri, { plugins: pluginsOf(flags, config) });
      try {
        const info = await fs.stat(path);
        let entries: { file: FileInfo; uri: string }[];
        if (info.type === "file") entries = [{ file: info, uri }];
        else
          entries = (await fs.ls(path))
            .filter((file) => file.type === "file" && isArchive(file.name))
            .sort((a, b) => a.name.localeCompare(b.name))
            .map((file) => ({ file, uri: childUri(uri, file.name) }));
        const archives: ListedArchive[] = [];
        for (const { file, uri: archiveUri } of entries) {
          const metadata = await readArchiveMetadata(fs, file.path).catch((error: unknown) => {
            if (isStorageError(error)) return undefined;
            throw error;
          });
          archives.push({
            name: file.name,
            uri: archiveUri,
            size: file.size,
            ...(file.modifiedAt && { modifiedAt: file.modifiedAt.toISOString() }),
            ...(metadata && { metadata }),
          });
        }
        const listing: Listing = { uri, archives };
        output.result(listing, () => describe(listing), archives.map((a) => a.uri).join("\n"));
      } finally {
        await fs.close?.();
      }
    });
}
