import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { defineConfig, type Options } from "tsup";
import { rawTextPlugin } from "../../tsup.shared.js";

type EsbuildPlugin = NonNullable<Options["esbuildPlugins"]>[number];

const workspace = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The workspace's packages from their sources (the replacements below name source modules), never testkit.
 */
const workspaceSources: EsbuildPlugin = {
  name: "workspace-sources",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^(cluster-pack|@cluster-pack\/[^/]+)(\/main)?$/ }, (args) => {
      if (args.path === "@cluster-pack/cli/main") return { path: join(workspace, "apps/cli/src/main.ts") };
      if (args.path === "@cluster-pack/testkit") return { errors: [{ text: "testkit is for tests only" }] };
      const name = args.path === "cluster-pack" ? "cluster-pack" : args.path.slice("@cluster-pack/".length);
      return { path: join(workspace, "packages", name, "src/index.ts") };
    });
  },
};

/** The compression worker as one CommonJS script: the one-file build starts its workers from this text. */
async function compressionWorkerSource(): Promise<string> {
  const result = await build({
    entryPoints: [join(workspace, "packages/archive/src/compression-worker.ts")],
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    write: false,
  });
  return result.outputFiles[0]?.text ?? "";
}

/**
 * Two modules that find files beside the code at run time, swapped for the ones in src/one-file/ that need nothing
 * beside the one file: the compression workers run from inlined code, the `kerberos` addon is looked up beside the
 * executable.
 */
const oneFileReplacements: EsbuildPlugin = {
  name: "one-file-replacements",
  setup(pluginBuild) {
    const replaced: Record<string, string> = {
      [join(workspace, "packages/archive/src/compression-worker-thread.js")]: "compression-worker-thread.ts",
      [join(workspace, "packages/fs-hdfs/src/kerberos-addon.js")]: "kerberos-addon.ts",
    };
    pluginBuild.onResolve({ filter: /^\.\/(compression-worker-thread|kerberos-addon)\.js$/ }, (args) => {
      const replacement = replaced[join(args.resolveDir, args.path)];
      return replacement ? { path: join(workspace, "apps/standalone/src/one-file", replacement) } : undefined;
    });
    pluginBuild.onResolve({ filter: /^compression-worker-source$/ }, () => ({
      path: "compression-worker-source",
      namespace: "one-file",
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: "one-file" }, async () => ({
      contents: await compressionWorkerSource(),
      loader: "text",
    }));
  },
};

/** Both outputs: CommonJS (what a single executable application runs) for Node 20, no type declarations. */
const commonJsForNode = {
  format: ["cjs"],
  outExtension: () => ({ js: ".cjs" }),
  platform: "node",
  target: "node20",
  dts: false,
} satisfies Options;

export default defineConfig([
  {
    ...commonJsForNode,
    entry: { "cluster-pack": "src/cluster-pack.ts" },
    // Everything inside, but the native addon, which is looked up at run time.
    noExternal: [/.*/],
    external: ["kerberos"],
    esbuildPlugins: [workspaceSources, oneFileReplacements, rawTextPlugin],
  },
  {
    ...commonJsForNode,
    // The build step that injects the bundle into Node: it runs here, with its dependencies installed.
    entry: { "make-executable": "src/make-executable.ts" },
    external: ["postject"],
  },
]);
