import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type RunningS3rver, startS3rver } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const packagesDirectory = fileURLToPath(new URL("../..", import.meta.url));
const bucket = "envs";

/**
 * Installs the packed tarballs of @cluster-pack/fs and this adapter (not @cluster-pack/fs-hdfs) into an empty
 * project with npm, as an S3-only user would: neither the `kerberos` package (an optional dependency of
 * fs-hdfs only) nor libkrb5 may be needed, or even loaded, to resolve, write, read and list s3:// URLs.
 */
describe("installed from packed tarballs without fs-hdfs", () => {
  let project: string;
  let s3rver: RunningS3rver;

  beforeAll(async () => {
    s3rver = await startS3rver({ buckets: [bucket] });
    project = await mkdtemp(join(tmpdir(), "cp-installed-s3-"));
    const tarballs = join(project, "tarballs");
    // @cluster-pack/errors comes along: both packages depend on it, and it is not on a registry either.
    for (const name of ["errors", "fs", "fs-s3"]) {
      execFileSync("pnpm", ["pack", "--pack-destination", tarballs], {
        cwd: join(packagesDirectory, name),
        stdio: "ignore",
        timeout: 30_000,
      });
    }
    await writeFile(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true }));
    const packed = (await readdir(tarballs)).map((file) => join(tarballs, file));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...packed], {
      cwd: project,
      stdio: "ignore",
      timeout: 120_000,
    });
  }, 180_000);

  afterAll(async () => {
    await s3rver?.stop();
    if (project) await rm(project, { recursive: true, force: true });
  });

  it("puts, reads back and lists an s3:// file with neither kerberos nor libkrb5 loaded", async () => {
    expect(existsSync(join(project, "node_modules", "@cluster-pack", "fs-s3"))).toBe(true);
    expect(existsSync(join(project, "node_modules", "@cluster-pack", "fs-hdfs"))).toBe(false);
    expect(existsSync(join(project, "node_modules", "kerberos"))).toBe(false);

    const options = {
      s3: {
        endpoint: s3rver.endpoint,
        credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey },
      },
    };
    const script = join(project, "check.mjs");
    await writeFile(
      script,
      `
      import { readFileSync } from "node:fs";
      import { Readable } from "node:stream";
      import { resolveFileSystem } from "@cluster-pack/fs";
      const kerberos = await import("kerberos").then(() => "resolvable", (error) => error.code);
      const options = ${JSON.stringify(options)};
      const { fs, path } = await resolveFileSystem("s3://${bucket}/installed/hello.txt", options);
      await fs.put(Readable.from([Buffer.from("installed")]), path);
      const chunks = [];
      for await (const chunk of await fs.open(path)) chunks.push(chunk);
      const listed = (await fs.ls("${bucket}/installed")).map((info) => \`\${info.name}:\${info.size}\`);
      await fs.close?.();
      const native = readFileSync("/proc/self/maps", "utf8")
        .split("\\n")
        .filter((line) => /libkrb5|libgssapi|kerberos\\.node/.test(line));
      console.log(JSON.stringify({ scheme: fs.scheme, content: Buffer.concat(chunks).toString(), listed, kerberos, native }));
    `,
    );
    // Asynchronous, from an unrelated working directory, with the whole environment: nothing is hidden from the
    // child, so whatever it does not load, it did not need.
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      cwd: tmpdir(),
      env: { ...process.env },
      timeout: 60_000,
    });
    expect(JSON.parse(stdout.trim())).toEqual({
      scheme: "s3",
      content: "installed",
      listed: ["hello.txt:9"],
      kerberos: "ERR_MODULE_NOT_FOUND",
      native: [],
    });
  }, 90_000);
});
