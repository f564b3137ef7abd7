import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listZip } from "@cluster-pack/archive";
import { createShippableVenv, type Venv } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ArchiveMetadata,
  isShippingError,
  packEnv,
  type UploadEnvOptions,
  uploadEnv,
} from "../src/index.js";

let root: string;
let venv: Venv;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-facade-size-"));
  ({ venv } = await createShippableVenv(root, {
    wheelFiles: { "purepkg/tests/__init__.py": "", "purepkg/tests/test_value.py": "VALUE = 1\n" },
  }));
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("compression and exclude through uploadEnv (local store)", () => {
  let archive: string;
  let metadataFile: string;
  const upload = (options: UploadEnvOptions = {}) =>
    uploadEnv({ python: venv.python, packagePath: archive, ...options });
  const metadata = async () => JSON.parse(await readFile(metadataFile, "utf8")) as ArchiveMetadata;

  beforeAll(() => {
    archive = join(root, "store", "envs", "env.pex");
    metadataFile = join(root, "store", "envs", "env.json");
  });

  it("records the default level, and finds an archive whose metadata predates the two options up to date", async () => {
    expect((await upload()).uploaded).toBe(true);
    const written = await metadata();
    expect(written.compression_level).toBe(1);
    expect(written).not.toHaveProperty("exclude");
    const { compression_level: _level, exclude: _exclude, ...older } = written;
    await writeFile(metadataFile, JSON.stringify(older));
    expect((await upload()).uploaded).toBe(false);
    // fast is level 1, the zipapp's default: the same intent, the same key.
    expect((await upload({ compression: "fast" })).uploaded).toBe(false);
    expect((await upload({ compression: 1 })).uploaded).toBe(false);
  });

  it("packs again when the compression changes, and not when it stays", async () => {
    const best = await upload({ compression: "best" });
    expect(best).toMatchObject({ uploaded: true, metadata: { compression_level: 9 } });
    expect((await metadata()).compression_level).toBe(9);
    expect((await upload({ compression: 9 })).uploaded).toBe(false);
    expect((await upload()).uploaded).toBe(true);
  });

  it("packs again when the excludes change, records them sorted, and keeps the archive for the same set in any order", async () => {
    const excluded = await upload({ exclude: ["*/tests/*", "*.a"] });
    expect(excluded.uploaded).toBe(true);
    expect((await metadata()).exclude).toEqual(["*.a", "*/tests/*"]);
    const names = (await listZip(archive)).entries.map((entry) => entry.name);
    expect(names).toContain(".deps/purepkg/__init__.py");
    expect(names.filter((name) => name.includes("/tests/"))).toEqual([]);
    expect((await upload({ exclude: ["*.a", "*/tests/*", "*.a"] })).uploaded).toBe(false);
    expect((await upload({ exclude: ["*/tests/*"] })).uploaded).toBe(true);
    expect((await upload()).uploaded).toBe(true);
    expect(await metadata()).not.toHaveProperty("exclude");
  });
});

describe("compression and exclude through packEnv", () => {
  it("stores every entry of a pex with store, and reports the options in its cache key", async () => {
    const packed = await packEnv({
      python: venv.python,
      output: join(root, "stored.pex"),
      compression: "store",
      exclude: ["*/tests"],
    });
    expect(packed.cacheKey).toMatchObject({ compression_level: 0, exclude: ["*/tests"] });
    const { entries } = await listZip(packed.output);
    expect(entries.filter((entry) => entry.method !== 0)).toEqual([]);
    expect(entries.filter((entry) => entry.name.includes("/tests/"))).toEqual([]);
  });

  it("packs a venv zip with best no bigger than with fast, and both recorded", async () => {
    const pack = (compression: "fast" | "best") =>
      packEnv({
        python: venv.python,
        packer: "venv",
        output: join(root, `venv-${compression}.zip`),
        compression,
      });
    const fast = await pack("fast");
    const best = await pack("best");
    expect(best.size).toBeLessThanOrEqual(fast.size);
    expect([fast.cacheKey.compression_level, best.cacheKey.compression_level]).toEqual([1, 9]);
  });

  it("refuses store for a .tar.gz, and a level out of range, each in one line", async () => {
    const failures = await Promise.all(
      [
        packEnv({
          python: venv.python,
          packer: "venv",
          output: join(root, "stored.tar.gz"),
          compression: "store",
        }),
        packEnv({ python: venv.python, output: join(root, "ten.pex"), compression: 10 }),
        packEnv({ python: venv.python, output: join(root, "max.pex"), compression: "max" as "best" }),
        packEnv({ python: venv.python, output: join(root, "abs.pex"), exclude: ["/usr/lib/*"] }),
      ].map((packing) => packing.catch((error: unknown) => error)),
    );
    for (const failure of failures) {
      expect(isShippingError(failure, "INVALID_ARGUMENT")).toBe(true);
      expect((failure as Error).message).not.toContain("\n");
    }
    expect((failures[0] as Error).message).toMatch(/store \(level 0\) applies to zip formats/);
    expect((failures[1] as Error).message).toMatch(
      /compression "10" is not supported: use store \(0\), fast \(1\), best \(9\)/,
    );
  });
});
