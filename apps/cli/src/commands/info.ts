import {
  type Distribution,
  type EditableInstall,
  type EnvironmentModel,
  environmentSizeReport,
  findEditableInstalls,
  formatRequirements,
  type ImportableTopLevel,
  inspectEnvironment,
} from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { inspectionOptions, type PackageSelectionFlags, packageSelectionOf } from "../options.js";
import { createOutput, formatBytes, printableLine, style, table, text } from "../render.js";
import { sizeTree, writeHtml } from "./report.js";

interface InfoFlags extends PackageSelectionFlags {
  top?: string;
  html?: string;
  tree?: boolean;
}

/** The summary `info` prints: python-env's model, reduced to what a person or a script looks at. */
export interface EnvironmentSummary {
  interpreter: EnvironmentModel["interpreter"];
  packages: { name: string; version: string; size: number; editable: boolean; location?: string }[];
  /** With the importable top-levels each ships (what criteo's `get_editable_requirements` maps). */
  editable: { name: string; version: string; location?: string; topLevels: ImportableTopLevel[] }[];
  requirements: string[];
  totalSize: number;
  largest: { name: string; version: string; size: number }[];
  fingerprint: string;
  problems: EnvironmentModel["problems"];
  compatibilityWarnings: EnvironmentModel["compatibilityWarnings"];
}

const sizeOf = (distribution: Distribution) =>
  (distribution.files ?? []).reduce((sum, file) => sum + (file.size ?? 0), 0);

export function summarize(
  model: EnvironmentModel,
  top: number,
  editables: readonly EditableInstall[] = [],
): EnvironmentSummary {
  const packages = model.distributions
    .map((d) => ({
      name: d.name,
      version: d.version,
      size: sizeOf(d),
      editable: d.editable,
      ...(d.editableLocation !== undefined && { location: d.editableLocation }),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    interpreter: model.interpreter,
    packages,
    editable: model.distributions
      .filter((d) => d.editable)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((d) => ({
        name: d.name,
        version: d.version,
        ...(d.editableLocation !== undefined && { location: d.editableLocation }),
        topLevels: editables.find((e) => e.name === d.normalizedName)?.topLevels ?? [],
      })),
    requirements: formatRequirements(model.requirements),
    totalSize: packages.reduce((sum, p) => sum + p.size, 0),
    largest: [...packages]
      .sort((a, b) => b.size - a.size)
      .slice(0, top)
      .map(({ name, version, size }) => ({ name, version, size })),
    fingerprint: model.fingerprint,
    problems: model.problems,
    compatibilityWarnings: model.compatibilityWarnings,
  };
}

/** Names, versions and problems come from the environment's files (METADATA, RECORD): shown, never obeyed. */
function describe(summary: EnvironmentSummary): string {
  const i = summary.interpreter;
  const lines = [
    `${style.bold("interpreter")}  ${text(i.executable)} (${text(i.implementation)} ${text(i.version)}, ${i.kind})`,
    `${style.bold("prefix")}       ${text(i.prefix)}`,
    `${style.bold("platform")}     ${text(i.platform)}`,
    `${style.bold("packages")}     ${summary.packages.length} (${formatBytes(summary.totalSize)}), ${summary.requirements.length} to ship`,
  ];
  if (summary.editable.length > 0) {
    lines.push("", style.bold("editable (shipped as zips):"));
    lines.push(table(summary.editable.map((e) => [`  ${text(e.name)}`, text(e.version), text(e.location)])));
  }
  if (summary.largest.length > 0) {
    lines.push("", style.bold("largest packages:"));
    lines.push(
      table(summary.largest.map((p) => [`  ${text(p.name)}`, text(p.version), formatBytes(p.size)])),
    );
  }
  for (const problem of summary.problems)
    lines.push(`problem: ${text(problem.path)}: ${text(problem.detail)}`);
  for (const warning of summary.compatibilityWarnings)
    lines.push(`warning: ${text(warning.name)} ${text(warning.version)}: ${text(warning.detail)}`);
  return lines.join("\n");
}

export function infoCommand(config: ProjectConfig): Command {
  const command = new Command("info").description(
    "describe the environment: interpreter, platform, packages, editables, sizes",
  );
  for (const option of inspectionOptions()) command.addOption(option);
  command.addOption(new Option("--top <n>", "how many of the largest packages to show").default("10"));
  command.addOption(
    new Option("--html <file>", "write where the bytes go as one self-contained HTML page (a treemap)"),
  );
  command.addOption(
    new Option("--tree", "show where the bytes go: packages and their top directories, with bars"),
  );
  return command.action(async (_flags: InfoFlags, self: Command) => {
    const flags = self.optsWithGlobals<InfoFlags>();
    const output = createOutput(flags);
    const top = Number.parseInt(flags.top ?? "10", 10);
    const model = await inspectEnvironment(packageSelectionOf(flags, config));
    // Broken editables are the model's `problems` already: the scan's own list would say the same twice.
    const { editables } = await findEditableInstalls(model.distributions);
    const shown = Number.isFinite(top) && top >= 0 ? top : 10;
    const summary = summarize(model, shown, editables);
    const sizeReport =
      flags.tree || flags.html !== undefined ? await environmentSizeReport(model) : undefined;
    const html = sizeReport && flags.html !== undefined ? await writeHtml(sizeReport, flags.html) : undefined;
    const human = () =>
      [
        // The tree says what the largest packages are, and more.
        describe(flags.tree ? { ...summary, largest: [] } : summary),
        flags.tree && sizeReport && sizeTree(sizeReport, shown),
        html && `size report written to ${printableLine(html)}`,
      ]
        .filter(Boolean)
        .join("\n\n");
    output.result(
      {
        ...summary,
        ...(flags.tree && sizeReport && { sizeReport }),
        ...(html && { html }),
      },
      human,
      summary.interpreter.executable,
    );
  });
}
