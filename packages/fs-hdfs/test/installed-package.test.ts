import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startWebHdfsServer } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const packagesDirectory = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Installs the packed tarballs of @cluster-pack/fs and this adapter into an empty project with npm, as a user
 * would, and runs a script there from an unrelated working directory: the lazy import of the adapter must find
 * it beside @cluster-pack/fs, outside the workspace.
 */
describe("installed from packed tarballs", () => {
  let project: string;
  let server: Awaited<ReturnType<typeof startWebHdfsServer>>;

  beforeAll(async () => {
    server = await startWebHdfsServer();
    project = await mkdtemp(join(tmpdir(), "cp-installed-"));
    const tarballs = join(project, "tarballs");
    // @cluster-pack/errors comes along: @cluster-pack/fs depends on it, and it is not on a registry either.
    for (const name of ["errors", "fs", "fs-hdfs"]) {
      execFileSync("pnpm", ["pack", "--pack-destination", tarballs], {
        cwd: join(packagesDirectory, name),
        stdio: "ignore",
      });
    }
    await writeFile(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true }));
    const packed = (await readdir(tarballs)).map((file) => join(tarballs, file));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...packed], {
      cwd: project,
      stdio: "ignore",
    });
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await rm(project, { recursive: true, force: true });
  });

  // Asynchronous on purpose: the WebHDFS server runs in this process and must keep answering meanwhile.
  const runInProject = async (script: string) => {
    const file = join(project, "check.mjs");
    await writeFile(file, script);
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      cwd: tmpdir(),
      env: { ...process.env },
    });
    return stdout;
  };

  it("finds @cluster-pack/fs-hdfs beside @cluster-pack/fs and round-trips a file", async () => {
    const uri = `${server.namenodeUrl.replace(/^http/, "webhdfs")}/tmp/installed/hello.txt`;
    const output = await runInProject(`
      import { resolveFileSystem } from "@cluster-pack/fs";
      import { Readable } from "node:stream";
      const { fs, path } = await resolveFileSystem(${JSON.stringify(uri)});
      await fs.put(Readable.from([Buffer.from("installed")]), path);
      const chunks = [];
      for await (const chunk of await fs.open(path)) chunks.push(chunk);
      console.log(fs.scheme, Buffer.concat(chunks).toString());
    `);
    expect(output.trim()).toBe("webhdfs installed");
  });

  it("names the package to install for an adapter that is not installed", async () => {
    const output = await runInProject(`
      import { resolveFileSystem } from "@cluster-pack/fs";
      await resolveFileSystem("s3://bucket/envs/a.pex").catch((error) => console.log(error.code, error.message));
    `);
    expect(output.trim()).toBe(
      "INVALID_ARGUMENT s3://bucket/envs/a.pex: install @cluster-pack/fs-s3 to use s3:// URLs",
    );
  });
});
