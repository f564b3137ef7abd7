import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execute, localizeContainer, run } from "../src/index.js";

let root: string;
let zipArchive: string;
let tarArchive: string;
let zipapp: string;

// Python's zipfile writes the fixtures: it is on every machine the suite runs on, unlike `zip`.
const writeZip = (output: string, prefix: string, entries: Record<string, [string, number]>) =>
  run("python3", [
    "-c",
    `import json, sys, zipfile
out, prefix, entries = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with open(out, "wb") as f:
    f.write(prefix.encode())
    with zipfile.ZipFile(f, "w") as z:
        for name, (text, mode) in entries.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            z.writestr(info, text)`,
    output,
    prefix,
    JSON.stringify(entries),
  ]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-localize-test-"));
  zipArchive = join(root, "code.zip");
  await writeZip(zipArchive, "", {
    "pkg/__init__.py": ["VALUE = 1\n", 0o644],
    "bin/tool": ["#!/bin/sh\necho tool ran\n", 0o755],
  });
  zipapp = join(root, "app.pex");
  await writeZip(zipapp, "#!/usr/bin/env python3\n", { "__main__.py": ["print('zipapp ran')\n", 0o644] });

  const tree = join(root, "tree");
  await mkdir(join(tree, "bin"), { recursive: true });
  await writeFile(join(tree, "bin", "python3.11"), "#!/bin/sh\necho venv python\n", { mode: 0o755 });
  await symlink("python3.11", join(tree, "bin", "python"));
  tarArchive = join(root, "venv.tar.gz");
  await run("tar", ["-czf", tarArchive, "-C", tree, "."]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("localizeContainer", () => {
  it("links a file under its alias, executable and read-only as YARN leaves it", async () => {
    const source = join(root, "notes.txt");
    await writeFile(source, "hello", { mode: 0o644 });
    const container = await localizeContainer([{ source, name: "renamed.txt", type: "file" }]);
    try {
      const link = join(container.directory, "renamed.txt");
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      expect(await readFile(link, "utf8")).toBe("hello");
      expect((await stat(link)).mode & 0o777).toBe(0o500);
    } finally {
      await container.cleanup();
    }
  });

  it("unpacks a zip into a directory under the alias, scripts still runnable", async () => {
    const container = await localizeContainer([
      { source: pathToFileURL(zipArchive).href, name: "code", type: "archive" },
    ]);
    try {
      expect(await readFile(join(container.directory, "code", "pkg", "__init__.py"), "utf8")).toBe(
        "VALUE = 1\n",
      );
      const outcome = await execute("./code/bin/tool", [], { cwd: container.directory });
      expect(outcome.stdout).toBe("tool ran\n");
    } finally {
      await container.cleanup();
    }
  });

  it("unpacks a tar.gz keeping its symlinks, so a venv's bin/python still resolves", async () => {
    const container = await localizeContainer([{ source: tarArchive, name: "environment", type: "archive" }]);
    try {
      const python = join(container.directory, "environment", "bin", "python");
      expect(await readlink(python)).toBe("python3.11");
      expect((await execute(python, [])).stdout).toBe("venv python\n");
    } finally {
      await container.cleanup();
    }
  });

  it("unpacks a zip with a shebang before it, as a zipapp shipped as an archive is", async () => {
    const renamed = join(root, "app.zip");
    await writeFile(renamed, await readFile(zipapp));
    const container = await localizeContainer([{ source: renamed, name: "app", type: "archive" }]);
    try {
      expect(await readFile(join(container.directory, "app", "__main__.py"), "utf8")).toContain("zipapp ran");
    } finally {
      await container.cleanup();
    }
  });

  it("keeps an archive it cannot unpack as a file, as YARN does for a .pex listed in archives", async () => {
    const container = await localizeContainer([{ source: zipapp, name: "env.pex", type: "archive" }]);
    try {
      const outcome = await execute("./env.pex", [], { cwd: container.directory });
      expect(outcome.stdout).toBe("zipapp ran\n");
    } finally {
      await container.cleanup();
    }
  });

  it("takes a skein-style files map, each entry linked under its key", async () => {
    const container = await localizeContainer({
      "env.pex": { source: zipapp, type: "file" },
      environment: { source: tarArchive, type: "archive" },
    });
    try {
      expect((await execute("./env.pex", [], { cwd: container.directory })).stdout).toBe("zipapp ran\n");
      expect(await readlink(join(container.directory, "environment", "bin", "python"))).toBe("python3.11");
    } finally {
      await container.cleanup();
    }
  });

  it("uses the given directory and removes it with the cache on cleanup", async () => {
    const directory = join(root, "given-container");
    const container = await localizeContainer([{ source: zipapp, name: "env.pex", type: "file" }], {
      directory,
    });
    expect(container.directory).toBe(directory);
    const target = await readlink(join(directory, "env.pex"));
    await container.cleanup();
    await expect(stat(directory)).rejects.toThrow(/ENOENT/);
    await expect(stat(target)).rejects.toThrow(/ENOENT/);
  });

  it("refuses two resources with one link name, leaving nothing behind", async () => {
    const directory = join(root, "clash");
    await expect(
      localizeContainer(
        [
          { source: zipapp, name: "env.pex", type: "file" },
          { source: zipArchive, name: "env.pex", type: "archive" },
        ],
        { directory },
      ),
    ).rejects.toThrow(/link name "env.pex" .*taken/);
    await expect(stat(directory)).rejects.toThrow(/ENOENT/);
  });

  it("fails with the storage error when a source does not exist", async () => {
    await expect(
      localizeContainer([{ source: join(root, "missing.zip"), name: "x", type: "archive" }]),
    ).rejects.toThrow(/missing\.zip/);
  });
});
