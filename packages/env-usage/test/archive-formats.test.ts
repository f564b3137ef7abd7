import { describe, expect, it } from "vitest";
import {
  archiveStem,
  defaultFormatOf,
  describeExtensions,
  editableDirectoryOf,
  formatOfPath,
  formatsOfPacker,
  getPyenvUsageFromArchive,
  isArchiveName,
  metadataPathOf,
  packerOfFormat,
} from "../src/index.js";

describe("archive formats", () => {
  it.each([
    ["s3://b/envs/env.pex", "pex", "env"],
    ["hdfs:///envs/env.pex.zip", "pex.zip", "env"],
    ["/envs/venv.tar.gz", "tar.gz", "venv"],
    ["/envs/venv.tgz", "tar.gz", "venv"],
    ["/envs/conda.zip", "zip", "conda"],
    ["https://host/dl/env.pex?token=x#frag", "pex", "env"],
  ])("reads %s as %s with stem %s", (path, format, stem) => {
    expect(formatOfPath(path)).toBe(format);
    expect(isArchiveName(path)).toBe(true);
    expect(archiveStem(path)).toBe(stem);
  });

  it.each(["/envs/env.whl", "/envs/.pex", "/envs/env.tar", "/envs/", "/envs/env.json"])(
    "knows %s is none of its archives",
    (path) => {
      expect(formatOfPath(path)).toBeUndefined();
      expect(isArchiveName(path)).toBe(false);
    },
  );

  it("names the packer only where the format says it", () => {
    expect(packerOfFormat("pex")).toBe("pex");
    expect(packerOfFormat("pex.zip")).toBe("pex.zip");
    expect(packerOfFormat("tar.gz")).toBeUndefined();
    expect(formatsOfPacker("venv")).toEqual(["tar.gz", "zip"]);
    expect(defaultFormatOf("conda")).toBe("tar.gz");
    expect(describeExtensions(formatsOfPacker("venv"))).toBe(".tar.gz, .tgz or .zip");
  });

  it("puts the metadata where cluster-pack's with_suffix(.json) does: only the last suffix goes", () => {
    expect(metadataPathOf("s3://b/envs/env.pex")).toBe("s3://b/envs/env.json");
    expect(metadataPathOf("/envs/env.pex.zip")).toBe("/envs/env.pex.json");
    expect(metadataPathOf("/envs/env.tar.gz")).toBe("/envs/env.tar.json");
    expect(metadataPathOf("/envs.d/env")).toBe("/envs.d/env.json");
  });

  it("keeps each archive's editable code in a directory of its own, named after its stem", () => {
    expect(editableDirectoryOf("s3://b/envs/env.pex")).toBe("s3://b/envs/env_editable");
    expect(editableDirectoryOf("/envs/venv.tar.gz")).toBe("/envs/venv_editable");
    expect(editableDirectoryOf("/envs/env.pex.zip")).toBe("/envs/env_editable");
  });

  it("runs every format it can name", () => {
    for (const path of ["/e/a.pex", "/e/a.pex.zip", "/e/a.tar.gz", "/e/a.tgz", "/e/a.zip"])
      expect(() => getPyenvUsageFromArchive(path)).not.toThrow();
  });
});
