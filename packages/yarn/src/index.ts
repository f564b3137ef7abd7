export type { ApplicationSpecOptions } from "./application.js";
export { applicationSpec } from "./application.js";
export type {
  Acls,
  ApplicationSpec,
  FileType,
  FileVisibility,
  LogLevel,
  Master,
  Resources,
  Service,
  SkeinFile,
} from "./application-spec.js";
export type { EnvFilesOptions } from "./env-files.js";
export { editableDirectoryName, envFiles } from "./env-files.js";
export type { EnvScriptOptions } from "./env-script.js";
export { envScript } from "./env-script.js";
export { TICKET_CACHE_NAME, ticketCacheFile } from "./kerberos.js";
export type { PythonEntryPoint } from "./python-entry-point.js";
export { pythonCommand } from "./python-entry-point.js";
export type { PythonServiceOptions } from "./python-service.js";
export { DEFAULT_RESOURCES, pythonService } from "./python-service.js";
export { toJson, toYaml } from "./to-yaml.js";
export { validateApplicationSpec, validateResources, validateService } from "./validate.js";
