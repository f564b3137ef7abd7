// The library façade: everything a program (the CLI, the Python door) needs, from one import.

export type { ArchiveErrorCode } from "@cluster-pack/archive";
export { ArchiveError } from "@cluster-pack/archive";
export type { EditableErrorCode, EditableInstall, ImportableTopLevel } from "@cluster-pack/editable";
export { EditableError, findEditableInstalls } from "@cluster-pack/editable";
export type {
  ArchiveFormat,
  EditableCode,
  EditableZip,
  Packer,
  PythonEnvDescription,
} from "@cluster-pack/env-usage";
export {
  archiveFormats,
  EnvUsageError,
  getPyenvUsageFromArchive,
  packerOfFormat,
  packers,
  UNPACKED_ENV_NAME,
  UNPACKED_VENV_NAME,
} from "@cluster-pack/env-usage";
export type { ClusterPackErrorOptions } from "@cluster-pack/errors";
export {
  ClusterPackError,
  firstLine,
  isClusterPackError,
  redactUrlCredentials,
  sanitizeLine,
  sanitizeText,
} from "@cluster-pack/errors";
export type { StorageErrorCode, StorageOptions } from "@cluster-pack/fs";
export { hasScheme, StorageError } from "@cluster-pack/fs";
export type { PackerErrorCode } from "@cluster-pack/packers";
export { PackerError } from "@cluster-pack/packers";
export type { Distribution, EnvironmentModel, PythonEnvErrorCode } from "@cluster-pack/python-env";
export { formatRequirements, inspectEnvironment, PythonEnvError } from "@cluster-pack/python-env";
export type {
  ExcludeSaving,
  HtmlOptions,
  PackageSize,
  SizeReport,
  TreeOptions,
} from "@cluster-pack/size-report";
export { formatBytes, formatCount, renderHtml, renderTree } from "@cluster-pack/size-report";
export type { ElfCheck, ModuleCheck, VerifyErrorCode, VerifyReport } from "@cluster-pack/verify";
export { failureSummary, isVerifyError, VerifyError } from "@cluster-pack/verify";
export type { ArchiveMetadata, CacheKey, ShippedInterpreter } from "./archive-metadata.js";
export {
  defaultPackagePathFor,
  defaultStore,
  hadoopDefaultFileSystem,
  storeOfDefaultFileSystem,
} from "./default-package-path.js";
export type { EditablePackage } from "./editable-upload.js";
export type {
  EnvListing,
  LocateEnvOptions,
  PruneOptions,
  PruneResult,
  RemovedEnv,
  StoredEnv,
  StoreOptions,
} from "./env-store.js";
export { listEnvs, locateEnv, pruneEnvs, removeEnv } from "./env-store.js";
export type { ShippingErrorCode, ShippingErrorOptions } from "./errors.js";
export { isShippingError, ShippingError } from "./errors.js";
export type {
  Compression,
  EnvironmentOptions,
  PackageSelection,
  PackEnvOptions,
  PackedEnv,
} from "./pack-env.js";
export { packEnv } from "./pack-env.js";
export { formatOfArchive } from "./packer.js";
export type { Phase, ProgressEvent, ProgressListener } from "./progress.js";
export type {
  ArchiveSizeReportOptions,
  SizeReportSourceOptions,
} from "./size-report.js";
export { archiveSizeReport, environmentSizeReport, writeSizeReportHtml } from "./size-report.js";
export type { EnvironmentTarget, SpecOptions } from "./spec-build.js";
export type { UploadEnvOptions, UploadedEnv, UploadZipOptions } from "./upload-env.js";
export { uploadEnv, uploadZip } from "./upload-env.js";
export type { VerifyBeforePublishing, VerifyEnvOptions } from "./verify-env.js";
export { verifyArchive } from "./verify-env.js";
