import type { VerifyReport } from "./verify-report.js";

/** Failures named in one summary line; the rest are counted. */
const NAMED_FAILURES = 5;

/**
 * What fails in a report, on one line: `brokenpkg (RuntimeError: boom), nativepkg (libcpneeded.so missing)`, then
 * ELF files no module ships; the report's strings are already sanitized. Empty for a report that is `ok`.
 */
export function failureSummary(report: VerifyReport): string {
  if (!report.startup.ok) return `the environment does not start: ${report.startup.error ?? "failed"}`;
  const failures = [
    ...report.modules
      .filter((module) => !module.ok)
      .map((module) =>
        module.missingLibraries.length > 0
          ? `${module.module} (missing ${module.missingLibraries.join(", ")})`
          : `${module.module} (${module.error ?? "failed"})`,
      ),
    ...report.elfFiles
      .filter((file) => file.module === undefined && file.missingLibraries.length > 0)
      .map((file) => `${file.path} (missing ${file.missingLibraries.join(", ")})`),
  ];
  const more = failures.length - NAMED_FAILURES;
  return failures.slice(0, NAMED_FAILURES).join(", ") + (more > 0 ? ` and ${more} more` : "");
}
