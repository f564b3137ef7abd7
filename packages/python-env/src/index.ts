export type { CondaEnvironmentFile } from "./conda-environment-file.js";
export { readCondaEnvironmentFile } from "./conda-environment-file.js";
export type { CondaPackage } from "./conda-packages.js";
export { listCondaPackages } from "./conda-packages.js";
export type { DirectUrl, Distribution, DistributionProblem } from "./distribution.js";
export type { PythonEnvErrorCode } from "./errors.js";
export { isPythonEnvError, PythonEnvError } from "./errors.js";
export { findExecutable } from "./find-executable.js";
export { computeFingerprint } from "./fingerprint.js";
export type { EnvironmentModel, InspectEnvironmentOptions } from "./inspect-environment.js";
export { inspectEnvironment } from "./inspect-environment.js";
export type { FindInterpreterOptions, Interpreter, InterpreterSource } from "./interpreter.js";
export {
  DEFAULT_PROBE_TIMEOUT_MS,
  detectInterpreter,
  findInterpreter,
  probeInterpreter,
  probeTimeoutOf,
} from "./interpreter.js";
export type { InstalledDistributions, ListDistributionsOptions } from "./list-distributions.js";
export { listDistributions, readDistributions } from "./list-distributions.js";
export { parseMetadataHeaders } from "./metadata-headers.js";
export { normalizeName } from "./normalize-name.js";
export type { RecordEntry } from "./record-file.js";
export { parseRecord } from "./record-file.js";
export type { Requirement, RequirementSetOptions } from "./requirement-set.js";
export {
  buildRequirementSet,
  buildToolNames,
  formatRequirements,
  isBuildTool,
  sameRequirements,
} from "./requirement-set.js";
export type {
  EnvironmentSpec,
  IndexOptions,
  ResolveEnvironmentOptions,
  ResolverTool,
  StagingEnvironment,
} from "./resolve-environment.js";
export { resolveEnvironment } from "./resolve-environment.js";
export type { TargetPlatform } from "./target-platform.js";
export { supportedPlatformTags, wheelArchitecture } from "./target-platform.js";
export type { CompatibilityWarning } from "./wheel-compatibility.js";
export { checkPlatformCompatibility, wheelTagProblem } from "./wheel-compatibility.js";
