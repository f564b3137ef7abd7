import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // atomic-local-writes.test.ts runs a copy of ../dist as another user: stop at once when dist/ is missing or
    // older than src/, instead of silently testing old code.
    globalSetup: ["../testkit/src/fresh-build.ts"],
  },
});
