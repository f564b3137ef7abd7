import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireFreshBuild, staleBuildReason } from "../src/fresh-build.js";

let workspace: string;
let pkg: string;
const at = (seconds: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, seconds));

beforeAll(async () => {
  // A workspace of its own: the package is named by its path from the root, as in this monorepo.
  workspace = await mkdtemp(join(tmpdir(), "cp-fresh-build-"));
  await writeFile(join(workspace, "pnpm-workspace.yaml"), "packages:\n  - packages/*\n");
  pkg = join(workspace, "packages", "demo");
  await mkdir(join(pkg, "src", "nested"), { recursive: true });
  await writeFile(join(pkg, "package.json"), JSON.stringify({ name: "@cluster-pack/demo", type: "module" }));
  for (const file of ["index.ts", "nested/deep.ts"]) {
    await writeFile(join(pkg, "src", file), "export {};\n");
    await utimes(join(pkg, "src", file), at(10), at(10));
  }
}, 10_000);

afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

async function build(seconds: number) {
  await mkdir(join(pkg, "dist"), { recursive: true });
  for (const file of ["index.js", "worker.js", "index.d.ts"]) {
    await writeFile(join(pkg, "dist", file), "");
    await utimes(join(pkg, "dist", file), at(seconds), at(seconds));
  }
}

describe("the build-before-test check", () => {
  it("names the package and the command when dist/ is missing", async () => {
    await rm(join(pkg, "dist"), { recursive: true, force: true });
    expect(staleBuildReason(pkg)).toBe(
      "packages/demo: dist/ is missing (no built .js file) — run pnpm turbo run build --filter=@cluster-pack/demo --force",
    );
  });

  it("accepts a build made after every source file", async () => {
    await build(20);
    expect(staleBuildReason(pkg)).toBeUndefined();
    expect(() => requireFreshBuild(pkg)).not.toThrow();
  });

  it("refuses a build older than a source file, even one in a subdirectory, in one line", async () => {
    await build(20);
    await utimes(join(pkg, "src", "nested", "deep.ts"), at(30), at(30));
    const reason =
      "packages/demo: dist/ is older than its sources (src/nested/deep.ts changed after dist/ was built) — run pnpm turbo run build --filter=@cluster-pack/demo --force";
    expect(staleBuildReason(pkg)).toBe(reason);
    expect(() => requireFreshBuild(pkg)).toThrow(reason);
    await utimes(join(pkg, "src", "index.ts"), at(25), at(25));
    expect(staleBuildReason(pkg)).toMatch(
      /\(src\/nested\/deep\.ts and 1 more changed after dist\/ was built\)/,
    );
  });

  it("counts the files a build inlines (bootstrap/), not the tests", async () => {
    await build(70);
    for (const [directory, seconds] of [
      ["test", 90],
      ["bootstrap", 80],
    ] as const) {
      await mkdir(join(pkg, directory), { recursive: true });
      await writeFile(join(pkg, directory, "file"), "");
      await utimes(join(pkg, directory, "file"), at(seconds), at(seconds));
    }
    expect(staleBuildReason(pkg)).toMatch(/\(bootstrap\/file changed after dist\/ was built\)/);
    await rm(join(pkg, "bootstrap"), { recursive: true });
    expect(staleBuildReason(pkg)).toBeUndefined();
    await rm(join(pkg, "test"), { recursive: true });
  });

  it("dates the build by its oldest built file, so one rewritten entry does not hide a stale one", async () => {
    await build(40);
    await utimes(join(pkg, "src", "index.ts"), at(45), at(45));
    await utimes(join(pkg, "dist", "index.js"), at(50), at(50));
    expect(staleBuildReason(pkg)).toMatch(
      /^packages\/demo: dist\/ is older than its sources \(src\/index\.ts /,
    );
  });

  it("stops a vitest run before any test with that one line and status 1, as a globalSetup", async () => {
    await build(40);
    await utimes(join(pkg, "src", "index.ts"), at(60), at(60));
    await writeFile(
      join(pkg, "vitest.config.ts"),
      `export default { test: { globalSetup: [${JSON.stringify(fileURLToPath(new URL("../src/fresh-build.ts", import.meta.url)))}] } };\n`,
    );
    await writeFile(
      join(pkg, "never.test.ts"),
      'import { it } from "vitest";\nit("never runs", () => {});\n',
    );
    const vitest = fileURLToPath(new URL("../node_modules/vitest/vitest.mjs", import.meta.url));
    const outcome = spawnSync(process.execPath, [vitest, "run", "--root", pkg], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", CI: "1" },
    });
    expect(outcome.status).toBe(1);
    expect(outcome.stderr.trim()).toBe(
      "packages/demo: dist/ is older than its sources (src/index.ts changed after dist/ was built) — run pnpm turbo run build --filter=@cluster-pack/demo --force",
    );
    expect(outcome.stdout).not.toContain("never runs");
  }, 60_000);
});
