import { failureSummary, VerifyError, type VerifyReport, verifyArchive } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { interruptible } from "../interrupts.js";
import { fsArgsOf, type GlobalFlags } from "../options.js";
import { createOutput, formatCount, printableLine, style, table, text } from "../render.js";
import { UsageError } from "../usage-error.js";

interface VerifyFlags extends GlobalFlags {
  python?: string;
  timeout?: string;
}

/** `--timeout 90` → 90 000 ms; a value that is not a positive number of seconds is a usage error. */
function timeoutMsOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--timeout must be a positive number of seconds, not "${printableLine(value)}"`);
  return seconds * 1000;
}

/** The table: one row per module, then ELF files that no module ships and that miss a library. */
function describe(report: VerifyReport): string {
  const status = (ok: boolean) => (ok ? style.green("ok") : "failed");
  const lines = [`${style.bold("archive")} ${text(report.archive)} (${report.format})`];
  if (!report.startup.ok) {
    lines.push(`${status(false)}: the environment does not start: ${text(report.startup.error ?? "")}`);
    return lines.join("\n");
  }
  const rows = report.modules.map((module) => [
    module.module,
    status(module.ok),
    text(module.error ?? "", 120),
    module.missingLibraries.join(", "),
  ]);
  for (const file of report.elfFiles)
    if (file.module === undefined && file.missingLibraries.length > 0)
      rows.push([file.path, status(false), "native library not found", file.missingLibraries.join(", ")]);
  lines.push(
    "",
    rows.length > 0
      ? table(rows, ["module", "status", "error", "missing libraries"])
      : "no modules to import",
  );
  const failed = report.modules.filter((module) => !module.ok).length;
  lines.push(
    "",
    report.ok
      ? style.green(
          report.modules.length === 1
            ? "the module imports, every native library resolves"
            : `all ${formatCount(report.modules.length, "module")} import, every native library resolves`,
        )
      : `${failed} of ${formatCount(report.modules.length, "module")} ${failed === 1 ? "fails" : "fail"}`,
  );
  return lines.join("\n");
}

export function verifyCommand(config: ProjectConfig): Command {
  return new Command("verify")
    .description(
      "run an archive (a path or a stored URI) as a node would: import every module it ships, check its native libraries",
    )
    .argument("<archive>", "the archive: env.pex, env.pex.zip, env.tar.gz, env.zip, or a stored URI")
    .addOption(
      new Option(
        "--python <python>",
        "the Python the nodes run (default: the one a zipapp's shebang names; a venv archive's own link)",
      ),
    )
    .addOption(
      new Option("--timeout <seconds>", "how long one import may take before it is killed (default 60)"),
    )
    .addOption(new Option("--json", "print the report as one JSON object on stdout"))
    .action(async (archive: string, _flags: VerifyFlags, self: Command) => {
      const flags = self.optsWithGlobals<VerifyFlags>();
      const output = createOutput(flags);
      const timeoutMs = timeoutMsOf(flags.timeout);
      const fsArgs = fsArgsOf(flags, config, output.verbose);
      const report = await interruptible(
        (signal) =>
          verifyArchive(archive, {
            fsArgs,
            signal,
            ...(flags.python !== undefined && { python: flags.python }),
            ...(timeoutMs !== undefined && { timeoutMs }),
          }),
        { undone: "nothing was changed" },
      );
      output.result(report, () => describe(report), report.ok ? "ok" : "failed");
      // The report is printed either way; the failure then gives the exit code (1) and a one-line summary.
      if (!report.ok)
        throw new VerifyError("BROKEN_ENVIRONMENT", failureSummary(report), { location: archive, report });
    });
}
