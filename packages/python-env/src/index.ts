export type { CondaEnvironmentFile } from "./conda-environment-file.js";
export { readCondaEnvironmentFile } from "./conda-environment-file.js";
export type { CondaPackage } from "./conda-packages.js";
export { listCondaPackages } from "./conda-packages.js";
export type { DirectUrl, Distribution, DistributionProblem } from "./distribution.js";
export type { EntryPoint } from "./entry-points.js";
export { parseEntryPoints } from "./entry-points.js";
export type { PythonEnvErrorCode } from "./errors.js";
export { isPythonEnvError, PythonEnvError } from "./errors.js";
export { findExecutable } from "./find-executable.js";
export { computeFingerprint } from "./fingerprint.js";
export type { EnvironmentModel, InspectEnvironmentOptions } from "./inspect-environment.js";
export { inspectEnvironment } from "./inspect-environment.js";
export type { InstalledWheel, InstallWheelOptions } from "./install-wheel.js";
export { installWheel, stagingSitePackages } from "./install-wheel.js";
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
export type { ResolvedWheel, ResolveWheelsOptions } from "./resolve-wheels.js";
export { describeSpecTarget, resolveWheels, wheelMisfit } from "./resolve-wheels.js";
export type { BuildSpecEnvironmentOptions, SpecEnvironment, WheelSpec } from "./spec-environment.js";
export { buildSpecEnvironment } from "./spec-environment.js";
export type { LockedWheel, SpecLock, SpecTarget } from "./spec-lock.js";
export { formatLock, LOCK_VERSION, readLock } from "./spec-lock.js";
export type { TargetPlatform } from "./target-platform.js";
export { supportedPlatformTags, targetOfPlatformTags, wheelArchitecture } from "./target-platform.js";
export {
  cachedWheelPath,
  cacheWheel,
  findCachedWheel,
  sha256OfFile,
  wheelCacheDirectory,
} from "./wheel-cache.js";
export type { CompatibilityWarning } from "./wheel-compatibility.js";
export { checkPlatformCompatibility, wheelTagProblem } from "./wheel-compatibility.js";
export type { WheelFileName } from "./wheel-file-name.js";
export { isSourceDistribution, parseWheelFileName } from "./wheel-file-name.js";
