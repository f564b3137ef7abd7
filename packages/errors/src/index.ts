export type { ClusterPackErrorOptions } from "./cluster-pack-error.js";
export { ClusterPackError, firstLine, isClusterPackError } from "./cluster-pack-error.js";
export { redactUrlCredentials, sanitizeLine, sanitizeText } from "./terminal-text.js";
