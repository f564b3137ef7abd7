export type { PythonEnvDescription } from "@cluster-pack/env-usage";
export { UNPACKED_ENV_NAME, UNPACKED_VENV_NAME } from "@cluster-pack/env-usage";
export type { ArchiveMetadata, CacheKey, ShippedInterpreter } from "./archive-metadata.js";
export { isUpToDate, metadataPathOf, readArchiveMetadata, toolVersion } from "./archive-metadata.js";
export {
  currentUser,
  defaultPackagePath,
  defaultPackagePathFor,
  defaultStore,
  envNameOf,
} from "./default-package-path.js";
export type { EditablePackage } from "./editable-upload.js";
export { editableDirectoryOf } from "./editable-upload.js";
export type { ClusterPackErrorCode, ClusterPackErrorOptions } from "./errors.js";
export { ClusterPackError, isClusterPackError } from "./errors.js";
export type { EnvironmentOptions, PackageSelection, PackEnvOptions, PackedEnv } from "./pack-env.js";
export { packEnv } from "./pack-env.js";
export type { ArchiveFormat, Packer } from "./packer.js";
export { archiveFormats, archiveStem, formatOfPath, packerOfPath, packers } from "./packer.js";
export type { Phase, ProgressEvent, ProgressListener } from "./progress.js";
export { getPyenvUsageFromArchive } from "./pyenv-usage.js";
export { resolveStorage } from "./storage.js";
export type { UploadEnvOptions, UploadedEnv, UploadZipOptions } from "./upload-env.js";
export { uploadEnv, uploadZip } from "./upload-env.js";
