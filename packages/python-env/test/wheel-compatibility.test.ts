import { describe, expect, it } from "vitest";
import { supportedPlatformTags, type TargetPlatform, wheelTagProblem } from "../src/index.js";

const linux: TargetPlatform = {
  os: "linux",
  machine: "x86_64",
  implementation: "cpython",
  pythonVersion: "3.11",
  abiTag: "cp311",
  glibcVersion: "2.17",
};
const mac: TargetPlatform = {
  ...linux,
  os: "darwin",
  machine: "arm64",
  macosVersion: "14.2",
  glibcVersion: "",
};

describe("wheel tags on a target platform", () => {
  it.each([
    ["py3-none-any", linux],
    ["py2.py3-none-any", linux],
    ["cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64", linux],
    ["cp311-cp311-manylinux1_x86_64", linux],
    ["cp38-abi3-manylinux2014_x86_64", linux],
    ["cp311-cp311-macosx_11_0_arm64", mac],
    ["cp311-cp311-macosx_10_9_universal2", mac],
  ])("accepts %s", (tag, target) => {
    expect(wheelTagProblem(tag, target)).toBeUndefined();
  });

  it.each([
    [
      "cp311-cp311-macosx_11_0_arm64",
      linux,
      "built for macosx_11_0_arm64, which linux x86_64 (glibc 2.17) cannot load",
    ],
    [
      "cp311-cp311-manylinux_2_28_x86_64",
      linux,
      "built for manylinux_2_28_x86_64, which linux x86_64 (glibc 2.17) cannot load",
    ],
    [
      "cp311-cp311-musllinux_1_1_x86_64",
      linux,
      "built for musllinux_1_1_x86_64, which linux x86_64 (glibc 2.17) cannot load",
    ],
    [
      "cp311-cp311-manylinux2014_aarch64",
      linux,
      "built for manylinux2014_aarch64, which linux x86_64 (glibc 2.17) cannot load",
    ],
    ["cp312-cp312-manylinux2014_x86_64", linux, "built for Python cp312, not 3.11"],
    ["cp310-cp310-manylinux2014_x86_64", linux, "built for Python cp310, not 3.11"],
    ["py2-none-any", linux, "built for Python py2, not 3.11"],
    ["pp310-pypy310_pp73-manylinux2014_x86_64", linux, "built for pypy (pp310), not cpython"],
    [
      "cp311-cp311-macosx_10_9_x86_64",
      mac,
      "built for macosx_10_9_x86_64, which darwin arm64 (macOS 14.2) cannot load",
    ],
    ["cp311-cp311-win_amd64", linux, "built for win_amd64, which linux x86_64 (glibc 2.17) cannot load"],
  ])("refuses %s", (tag, target, detail) => {
    expect(wheelTagProblem(tag, target)).toBe(detail);
  });

  it("lists manylinux levels from the target's glibc down, legacy aliases included", () => {
    const tags = supportedPlatformTags(linux);
    expect(tags.slice(0, 2)).toEqual(["manylinux_2_17_x86_64", "manylinux2014_x86_64"]);
    expect(tags).toContain("manylinux1_x86_64");
    expect(tags.slice(-2)).toEqual(["linux_x86_64", "any"]);
    expect(supportedPlatformTags({ ...linux, machine: "aarch64" }).at(-3)).toBe("manylinux2014_aarch64");
  });
});
