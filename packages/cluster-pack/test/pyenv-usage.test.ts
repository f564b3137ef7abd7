import { describe, expect, it } from "vitest";
import { getPyenvUsageFromArchive, isClusterPackError } from "../src/index.js";

describe("getPyenvUsageFromArchive (façade)", () => {
  it("describes archives as @cluster-pack/env-usage does", () => {
    expect(getPyenvUsageFromArchive("s3://bucket/envs/env.pex.zip")).toMatchObject({
      interpreterCmd: "pyenv/__main__.py",
      mustUnpack: true,
    });
  });

  it("reports an archive it cannot describe as the façade's INVALID_ARGUMENT, naming it once", () => {
    let error: unknown;
    try {
      getPyenvUsageFromArchive("/envs/env.whl");
    } catch (caught) {
      error = caught;
    }
    expect(isClusterPackError(error, "INVALID_ARGUMENT")).toBe(true);
    expect((error as Error).message).toBe(
      "/envs/env.whl: unsupported archive format: use .pex, .pex.zip, or a venv/conda archive (.tar.gz, .zip)",
    );
    expect(error).toMatchObject({
      where: "/envs/env.whl",
      detail: "unsupported archive format: use .pex, .pex.zip, or a venv/conda archive (.tar.gz, .zip)",
    });
  });
});
