import { readFile } from "node:fs/promises";
import { defineConfig, type Options } from "tsup";

type EsbuildPlugin = NonNullable<Options["esbuildPlugins"]>[number];

/**
 * `import text from "./file.py?raw"`: the file's text, inlined at build time (Vite reads the same suffix in tests).
 * Files a package ships to Python (the zipapp bootstrap, the relocation scripts) stay real files in the repository
 * yet need no file next to the code at run time, so one-file builds carry them too.
 */
export const rawTextPlugin: EsbuildPlugin = {
  name: "raw-text",
  setup(build) {
    build.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: new URL(args.path.replace(/\?raw$/, ""), `file://${args.resolveDir}/`).pathname,
      namespace: "raw-text",
    }));
    build.onLoad({ filter: /.*/, namespace: "raw-text" }, async (args) => ({
      contents: await readFile(args.path, "utf8"),
      loader: "text",
    }));
  },
};

/** How every package builds: ESM with type declarations for Node 20, from src/index.ts unless told otherwise. */
export const packageBuild = (overrides: Options = {}) =>
  defineConfig({
    entry: ["src/index.ts"],
    format: ["esm"],
    dts: true,
    clean: true,
    target: "node20",
    esbuildPlugins: [rawTextPlugin],
    ...overrides,
  });
