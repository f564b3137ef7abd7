// Shared test fixtures; each server helper is re-exported here.

export * from "./built-package.js";
export * from "./execute.js";
export * from "./fault-proxy.js";
export * from "./fresh-build.js";
export * from "./hadoop-tokens.js";
export * from "./kdc.js";
export * from "./localize.js";
export * from "./native-wheel.js";
export * from "./package-index.js";
export * from "./python.js";
export * from "./s3rver.js";
export * from "./s3rver-access.js";
export * from "./secure-cluster-files.js";
export * from "./shippable-venv.js";
export * from "./sized-venv.js";
export * from "./skein-spec.js";
export * from "./test-certificates.js";
export * from "./test-stores.js";
export * from "./webhdfs-server.js";
