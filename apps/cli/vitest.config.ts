import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file builds a venv and runs Python and servers: one file at a time keeps the load of `make test` down.
    fileParallelism: false,
    // The tests' own S3 client: without this the AWS SDK prints a multi-line Node 20 warning.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    // The tests run the built CLI (dist/cli.js): stop at once when dist/ is missing or older than src/, instead of
    // silently testing old code.
    globalSetup: ["../../packages/testkit/src/fresh-build.ts"],
  },
});
