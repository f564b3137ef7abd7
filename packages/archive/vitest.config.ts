import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The tests import ../dist/index.js (the compression workers run from built files): stop at once when dist/ is
    // missing or older than src/, instead of silently testing old code.
    globalSetup: ["../testkit/src/fresh-build.ts"],
  },
});
