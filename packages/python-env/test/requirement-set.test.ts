import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildRequirementSet,
  computeFingerprint,
  type Distribution,
  formatRequirements,
  normalizeName,
  sameRequirements,
} from "../src/index.js";

const installed = (name: string, version: string, extra: Partial<Distribution> = {}): Distribution => ({
  name,
  normalizedName: normalizeName(name),
  version,
  sitePackages: "/venv/lib/python3.11/site-packages",
  metadataPath: `/venv/lib/python3.11/site-packages/${name}-${version}.dist-info`,
  format: "dist-info",
  wheelTags: ["py3-none-any"],
  topLevel: [name],
  requiresDist: [],
  editable: false,
  files: [{ path: `${name}/__init__.py`, hash: "sha256=AAAA", size: 10 }],
  ...extra,
});

const environment = [
  installed("numpy", "1.26.4"),
  installed("torch", "2.1.0"),
  installed("torchvision", "0.16.0"),
  installed("Typing_Extensions", "4.9.0"),
  installed("pip", "23.2.1"),
  installed("my-project", "0.1.0", { editable: true }),
];
const interpreter = {
  implementation: "cpython",
  version: "3.11.7",
  abiTag: "cp311",
  platform: "Linux-6.1-x86_64-with-glibc2.36",
};
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "cp-requirements-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("the requirement set", () => {
  it("pins every non-editable distribution, build tools included", async () => {
    expect(formatRequirements(await buildRequirementSet(environment))).toEqual([
      "numpy==1.26.4",
      "pip==23.2.1",
      "torch==2.1.0",
      "torchvision==0.16.0",
      "Typing_Extensions==4.9.0",
    ]);
  });

  it("replaces an installed package by an additional one of the same normalised name only", async () => {
    const set = await buildRequirementSet(environment, {
      additionalPackages: { Torch: "2.2.0", "typing.extensions": "4.10.0" },
    });
    expect(formatRequirements(set)).toEqual([
      "numpy==1.26.4",
      "pip==23.2.1",
      "Torch==2.2.0",
      // cluster-pack's substring match would have dropped torchvision too.
      "torchvision==0.16.0",
      "typing.extensions==4.10.0",
    ]);
  });

  it("removes ignored packages and keeps only the listed ones, by normalised name", async () => {
    const ignored = await buildRequirementSet(environment, {
      ignoredPackages: ["TORCH", "typing-extensions"],
    });
    expect(ignored.map((r) => r.normalizedName)).toEqual(["numpy", "pip", "torchvision"]);
    const only = await buildRequirementSet(environment, {
      additionalPackages: { pandas: "2.2.0" },
      onlyPackages: ["NumPy", "pandas"],
    });
    expect(formatRequirements(only)).toEqual(["numpy==1.26.4", "pandas==2.2.0"]);
  });

  it("takes a local wheel as an additional package, and refuses a missing one", async () => {
    const wheel = join(directory, "extra-1.0-py3-none-any.whl");
    await writeFile(wheel, "wheel bytes");
    const set = await buildRequirementSet([], { additionalPackages: { extra: wheel } });
    expect(set).toEqual([{ name: "extra", normalizedName: "extra", wheel, origin: "additional" }]);
    const missing = join(directory, "missing-1.0-py3-none-any.whl");
    await expect(buildRequirementSet([], { additionalPackages: { missing } })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: `${missing}: additional package missing: no such wheel file`,
    });
  });

  it("compares sets regardless of spelling, order and build tools", async () => {
    const a = await buildRequirementSet(environment);
    const b = await buildRequirementSet([...environment].reverse().filter((d) => d.name !== "pip"));
    expect(sameRequirements(a, b)).toBe(true);
    expect(
      sameRequirements(a, await buildRequirementSet(environment, { additionalPackages: { numpy: "2.0.0" } })),
    ).toBe(false);
  });
});

describe("the fingerprint", () => {
  const fingerprint = async (distributions: Distribution[], options = {}, python = interpreter) =>
    computeFingerprint(python, await buildRequirementSet(distributions, options));

  it("does not depend on the order distributions were read in, nor on the build tools", async () => {
    const reference = await fingerprint(environment);
    expect(reference).toMatch(/^[0-9a-f]{64}$/);
    expect(await fingerprint([...environment].reverse())).toBe(reference);
    expect(
      await fingerprint(environment.map((d) => (d.name === "pip" ? { ...d, version: "24.0" } : d))),
    ).toBe(reference);
  });

  it("changes with a version, a RECORD hash, the interpreter or the platform", async () => {
    const reference = await fingerprint(environment);
    const rebuilt = environment.map((d) =>
      d.name === "numpy"
        ? { ...d, files: [{ path: "numpy/__init__.py", hash: "sha256=BBBB", size: 10 }] }
        : d,
    );
    const variants = [
      await fingerprint(environment, { additionalPackages: { numpy: "1.26.5" } }),
      await fingerprint(rebuilt),
      await fingerprint(environment, {}, { ...interpreter, version: "3.11.8" }),
      await fingerprint(environment, {}, { ...interpreter, platform: "macOS-14.2-arm64-arm-64bit" }),
    ];
    expect(new Set([reference, ...variants]).size).toBe(5);
  });

  it("ignores editables and the scripts pip writes with the venv's path in them", async () => {
    const reference = await fingerprint(environment);
    expect(await fingerprint(environment.filter((d) => !d.editable))).toBe(reference);
    const withScript = (hash: string) =>
      environment.map((d) =>
        d.name === "numpy"
          ? { ...d, files: [...(d.files ?? []), { path: "../../../bin/f2py", hash, size: 200 }] }
          : d,
      );
    expect(await fingerprint(withScript("sha256=venv-a"))).toBe(
      await fingerprint(withScript("sha256=venv-b")),
    );
  });

  it("hashes the content of a local additional wheel", async () => {
    const wheel = join(directory, "local-1.0-py3-none-any.whl");
    await writeFile(wheel, "first build");
    const first = await fingerprint(environment, { additionalPackages: { local: wheel } });
    await writeFile(wheel, "second build");
    expect(await fingerprint(environment, { additionalPackages: { local: wheel } })).not.toBe(first);
  });
});
