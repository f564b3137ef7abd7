export type { PackerErrorCode } from "./errors.js";
export { isPackerError, PackerError } from "./errors.js";
export type { PackedZipapp, PackZipappOptions, ZipappLayout } from "./pack-zipapp.js";
export { packZipapp } from "./pack-zipapp.js";
export type { InheritPath, PexInfo } from "./pex-info.js";
export { formatPexInfo } from "./pex-info.js";
