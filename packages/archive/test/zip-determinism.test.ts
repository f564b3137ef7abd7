import { mkdirSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectTree, writeZip } from "../dist/index.js";
import { buildTree, python, sha256, temporaryDirectory } from "./fixtures.js";

const work = temporaryDirectory("determinism");
const tree = join(work.directory, "tree");
beforeAll(() => {
  mkdirSync(tree);
  buildTree(tree);
});
afterAll(() => work.cleanup());

const pack = async (name: string, options: Parameters<typeof writeZip>[2] = {}) => {
  const path = join(work.directory, name);
  // Reversed input order: the writer must sort.
  const entries = collectTree(tree);
  await writeZip(name.includes("reversed") ? entries.reverse() : entries, path, { level: 6, ...options });
  return path;
};

describe("zip determinism", () => {
  it("gives byte-identical archives for the same inputs, in any input order", async () => {
    expect(sha256(await pack("a.zip"))).toBe(sha256(await pack("b-reversed.zip")));
  });

  it("ignores the files' modification times", async () => {
    const before = sha256(await pack("before.zip"));
    utimesSync(join(tree, "pkg/core.py"), new Date("2020-05-05"), new Date("2020-05-05"));
    expect(sha256(await pack("after.zip"))).toBe(before);
  });

  it("stamps 1980-01-01 00:00 by default and SOURCE_DATE_EPOCH (read in UTC) when set", async () => {
    const dates = (path: string) =>
      python(
        "import sys,zipfile; print(sorted({i.date_time for i in zipfile.ZipFile(sys.argv[1]).infolist()}))",
        path,
      ).trim();
    const unset = process.env.SOURCE_DATE_EPOCH;
    delete process.env.SOURCE_DATE_EPOCH;
    const plain = await pack("default.zip");
    expect(dates(plain)).toBe("[(1980, 1, 1, 0, 0, 0)]");
    process.env.SOURCE_DATE_EPOCH = "1700000000"; // 2023-11-14T22:13:20Z
    try {
      const stamped = await pack("epoch.zip");
      expect(dates(stamped)).toBe("[(2023, 11, 14, 22, 13, 20)]");
      expect(sha256(stamped)).not.toBe(sha256(plain));
      expect(sha256(await pack("epoch-again.zip"))).toBe(sha256(stamped));
    } finally {
      if (unset === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = unset;
    }
  });
});
