// The entry of the one-file build: the CLI with the S3 and HDFS adapters built in, since a one-file build cannot
// find them as packages at run time. Each is still loaded on first use: `--version` does not pay for the AWS SDK.
import { main } from "@cluster-pack/cli/main";
import { builtinAdapters, type FileSystemPlugin, registerFileSystem } from "@cluster-pack/fs";

const bundledAdapters: Record<string, () => Promise<{ fileSystemPlugin: FileSystemPlugin }>> = {
  "@cluster-pack/fs-s3": () => import("@cluster-pack/fs-s3"),
  "@cluster-pack/fs-hdfs": () => import("@cluster-pack/fs-hdfs"),
};

for (const [scheme, packageName] of Object.entries(builtinAdapters)) {
  const load = bundledAdapters[packageName];
  if (!load) throw new Error(`the one-file build has no adapter ${packageName} for ${scheme}://`);
  registerFileSystem(scheme, async (uri, options) => (await load()).fileSystemPlugin.factory(uri, options));
}

// A single executable application sees itself as argv[1], as `node cluster-pack.cjs` sees the script.
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
