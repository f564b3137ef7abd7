import { resolve } from "node:path";
import { archiveSizeReport, renderTree, type SizeReport, writeSizeReportHtml } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { fsArgsOf, type GlobalFlags } from "../options.js";
import { createOutput, printableLine, style } from "../render.js";
import { UsageError } from "../usage-error.js";

export interface SizeReportFlags extends GlobalFlags {
  html?: string;
  tree?: boolean;
  top?: string;
}

/** The terminal version of a size report, as wide as the terminal (80 columns in a pipe). */
export const sizeTree = (report: SizeReport, packages: number) =>
  renderTree(report, {
    width: process.stdout.columns || 80,
    packages,
    emphasize: style.bold,
    dim: style.dim,
  });

/** `--top`: how many packages the tree shows, and largest files and duplicate sets the report keeps. */
export function topOf(flags: SizeReportFlags): number {
  const top = Number(flags.top ?? "20");
  if (!Number.isInteger(top) || top < 0)
    throw new UsageError(`--top must be a whole number, got "${printableLine(flags.top ?? "")}"`);
  return top;
}

/** `--html FILE` made absolute (the note and the JSON say where the page is), written atomically. */
export async function writeHtml(report: SizeReport, file: string): Promise<string> {
  const target = resolve(file);
  await writeSizeReportHtml(report, target);
  return target;
}

export function reportCommand(config: ProjectConfig): Command {
  return new Command("report")
    .description(
      "where an archive's megabytes go: per package and directory, largest and duplicated files, what excludes save",
    )
    .argument("<archive>", "a .pex, .pex.zip, venv or conda .tar.gz/.zip: a path or a URI (s3://, hdfs://…)")
    .addOption(new Option("--html <file>", "write the report as one self-contained HTML page (a treemap)"))
    .addOption(new Option("--tree", "print the terminal version (the default without --html or --json)"))
    .addOption(
      new Option(
        "--top <n>",
        "how many packages to show, and largest files and duplicate sets to keep",
      ).default("20"),
    )
    .addOption(new Option("--json", "print the report as one JSON object on stdout"))
    .action(async (archive: string, _flags: SizeReportFlags, self: Command) => {
      const flags = self.optsWithGlobals<SizeReportFlags>();
      const output = createOutput(flags);
      const top = topOf(flags);
      const report = await archiveSizeReport(archive, {
        top,
        fsArgs: fsArgsOf(flags, config, output.verbose),
      });
      const html = flags.html === undefined ? undefined : await writeHtml(report, flags.html);
      // The tree unless the page is the answer (--html alone); then its path is the line a script reads.
      const showTree = flags.tree || html === undefined;
      output.result(
        html ? { ...report, html } : report,
        () =>
          [showTree && sizeTree(report, top), html && `size report written to ${printableLine(html)}`]
            .filter(Boolean)
            .join("\n\n"),
        html ?? printableLine(archive),
      );
    });
}
