import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// By path: @cluster-pack/testkit depends on this package, which cannot depend on it in turn.
import { copyBuiltPackage } from "../../testkit/src/built-package.js";
import { StorageError } from "../src/errors.js";
import { localFileSystem } from "../src/local-file-system.js";
import { writeFileAtomically } from "../src/transfer.js";

const isRoot = process.getuid?.() === 0;

describe("local adapter writes", () => {
  let directory: string;
  const fs = localFileSystem();

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), "cp-atomic-"));
  });
  afterEach(async () => {
    await chmod(directory, 0o755).catch(() => undefined);
    await rm(directory, { recursive: true, force: true });
  });

  /** A source that yields some bytes and then fails, as a broken network stream or a killed packer would. */
  async function* failingSource() {
    yield Buffer.alloc(64 * 1024, 1);
    throw new Error("source broke");
  }

  it("keeps the previous file and leaves no temporary file when the source fails mid-way", async () => {
    const target = join(directory, "env.pex");
    await writeFile(target, "previous good archive");
    await expect(fs.put(failingSource(), target)).rejects.toBeInstanceOf(StorageError);
    expect(await readFile(target, "utf8")).toBe("previous good archive");
    expect(await readdir(directory)).toEqual(["env.pex"]);
  });

  it("publishes nothing at the final path when the first write fails", async () => {
    const target = join(directory, "fresh.pex");
    await expect(fs.put(failingSource(), target)).rejects.toThrow(`${target}: `);
    expect(await readdir(directory)).toEqual([]);
  });

  it("blames a failing source on the source URI, not on the local target", async () => {
    const target = join(directory, "download.pex");
    await expect(
      writeFileAtomically(target, failingSource(), { sourceUri: "s3://bucket/env.pex" }),
    ).rejects.toMatchObject({
      location: "s3://bucket/env.pex",
      message: "s3://bucket/env.pex: source broke",
    });
    expect(await readdir(directory)).toEqual([]);
  });

  it("reports a cancelled upload as ABORTED and publishes nothing", async () => {
    const target = join(directory, "cancelled.pex");
    const controller = new AbortController();
    async function* slowSource() {
      yield Buffer.alloc(1024);
      controller.abort();
      yield Buffer.alloc(1024);
    }
    await expect(fs.put(slowSource(), target, { signal: controller.signal })).rejects.toMatchObject({
      code: "ABORTED",
    });
    expect(await readdir(directory)).toEqual([]);
  });

  it("keeps the executable bit of an uploaded local file", async () => {
    const source = join(directory, "source.pex");
    await writeFile(source, "#!/usr/bin/env python3\n");
    await chmod(source, 0o755);
    await fs.put(source, join(directory, "out", "env.pex"));
    expect((await stat(join(directory, "out", "env.pex"))).mode & 0o777).toBe(0o755);
  });

  it("refuses to put onto a directory", async () => {
    await expect(fs.put(Readable.from([Buffer.from("x")]), directory)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("refuses mkdir over an existing file", async () => {
    const file = join(directory, "file");
    await writeFile(file, "");
    await expect(fs.mkdir(file)).rejects.toMatchObject({ code: "ALREADY_EXISTS" });
  });

  it("reports a read-only directory as PERMISSION_DENIED", async () => {
    await chmod(directory, 0o555);
    const target = join(directory, "x");
    // Root bypasses permission bits, so the write runs in a child process as an ordinary user, from a copy
    // of the built package (and its dependencies) that this user can read wherever the checkout lives.
    const code = await mkdtemp(join(tmpdir(), "cp-code-"));
    await copyBuiltPackage(fileURLToPath(new URL("..", import.meta.url)), code);
    await chmod(code, 0o755);
    const script = `
      import { localFileSystem } from ${JSON.stringify(pathToFileURL(join(code, "index.js")).href)};
      import { Readable } from "node:stream";
      localFileSystem().put(Readable.from([Buffer.from("x")]), ${JSON.stringify(target)})
        .then(() => console.log("{}"), (error) => console.log(JSON.stringify({ code: error.code, message: error.message })));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      ...(isRoot && { uid: 65534, gid: 65534 }),
    });
    await rm(code, { recursive: true, force: true });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toEqual({
      code: "PERMISSION_DENIED",
      message: `${target}: permission denied`,
    });
  });
});
