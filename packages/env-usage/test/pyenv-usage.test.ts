import { describe, expect, it } from "vitest";
import { getPyenvUsageFromArchive, isEnvUsageError } from "../src/index.js";

describe("getPyenvUsageFromArchive", () => {
  it("runs a zipapp as ./<name> without unpacking it", () => {
    expect(getPyenvUsageFromArchive("s3://bucket/envs/env.pex")).toEqual({
      pathToArchive: "s3://bucket/envs/env.pex",
      interpreterCmd: "./env.pex",
      destPath: "env.pex",
      mustUnpack: false,
    });
  });

  it("unpacks the pex.zip layout as pyenv and runs pyenv/__main__.py", () => {
    expect(getPyenvUsageFromArchive("hdfs:///user/me/envs/env.pex.zip")).toEqual({
      pathToArchive: "hdfs:///user/me/envs/env.pex.zip",
      interpreterCmd: "pyenv/__main__.py",
      destPath: "pyenv",
      mustUnpack: true,
    });
  });

  it("unpacks venv and conda archives as environment and runs environment/bin/python", () => {
    for (const archive of ["/envs/venv.tar.gz", "/envs/conda.zip", "/envs/x.tgz"])
      expect(getPyenvUsageFromArchive(archive)).toMatchObject({
        interpreterCmd: "environment/bin/python",
        destPath: "environment",
        mustUnpack: true,
      });
  });

  it("refuses an archive it cannot describe, in one line naming it, with what is wrong apart from where", () => {
    let error: unknown;
    try {
      getPyenvUsageFromArchive("/envs/env.whl");
    } catch (caught) {
      error = caught;
    }
    expect(isEnvUsageError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^\/envs\/env\.whl: unsupported archive format/);
    expect((error as Error).message).not.toContain("\n");
    expect(error).toMatchObject({
      location: "/envs/env.whl",
      detail: "unsupported archive format: the name must end in .pex, .pex.zip, .tar.gz, .tgz or .zip",
    });
  });
});
