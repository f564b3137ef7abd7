import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execute, machinePython } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uploadZip } from "../src/index.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-upload-zip-warnings-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A zipapp-named zip written by Python's zipfile, which stores whatever names it is given. */
async function zipWith(name: string, script: string): Promise<string> {
  const path = join(root, name);
  const outcome = await execute(machinePython, [
    "-c",
    `import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w")\n${script}\nz.close()`,
    path,
  ]);
  expect(outcome.stderr).toBe("");
  return path;
}

describe("uploadZip of a prebuilt archive with risky entries", () => {
  it("uploads it and warns, one line per entry: traversal, absolute path, link leaving the archive", async () => {
    const archive = await zipWith(
      "risky.pex",
      [
        'z.writestr("__main__.py", "print(1)")',
        'z.writestr("../evil.py", "x")',
        'z.writestr("/etc/cron.d/evil", "x")',
        'i = zipfile.ZipInfo("escape"); i.external_attr = (0o120777 << 16); z.writestr(i, "../../outside")',
      ].join("\n"),
    );
    const result = await uploadZip(archive, join(root, "store", "risky.pex"));
    expect(result.uploaded).toBe(true);
    expect(result.warnings).toEqual([
      'entry "../evil.py" has a .. component, which would write outside the extraction directory: the nodes may refuse this archive',
      'entry "/etc/cron.d/evil" is an absolute path, which would write outside the extraction directory: the nodes may refuse this archive',
      'entry "escape" is a link that leaves the archive, or lies beneath a link: the nodes may refuse this archive',
    ]);
  });

  it("does not warn about an ordinary archive", async () => {
    const archive = await zipWith("plain.pex", 'z.writestr("__main__.py", "print(1)")');
    const result = await uploadZip(archive, join(root, "store", "plain.pex"));
    expect(result.warnings).toBeUndefined();
  });
});
