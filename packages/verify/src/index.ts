export type { VerifyErrorCode } from "./errors.js";
export { isVerifyError, VerifyError } from "./errors.js";
export { failureSummary } from "./failure-summary.js";
export type { VerifyArchiveOptions } from "./verify-archive.js";
export { DEFAULT_VERIFY_TIMEOUT_MS, verifiableFormatOf, verifyArchive } from "./verify-archive.js";
export type { ElfCheck, ModuleCheck, VerifyReport } from "./verify-report.js";
