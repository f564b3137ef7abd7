import { defineConfig, type Options } from "tsup";

/** How every package builds: ESM with type declarations for Node 20, from src/index.ts unless told otherwise. */
export const packageBuild = (overrides: Options = {}) =>
  defineConfig({
    entry: ["src/index.ts"],
    format: ["esm"],
    dts: true,
    clean: true,
    target: "node20",
    ...overrides,
  });
