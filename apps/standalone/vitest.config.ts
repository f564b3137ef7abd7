import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file builds a venv and starts servers: one file at a time keeps the load of `make test` down.
    fileParallelism: false,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    // The tests run dist/cluster-pack and dist/cluster-pack.cjs: stop at once when they are older than src/.
    globalSetup: ["../../packages/testkit/src/fresh-build.ts"],
  },
});
