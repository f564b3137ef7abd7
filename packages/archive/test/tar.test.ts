import { execFileSync } from "node:child_process";
import { mkdirSync, readlinkSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectTree, listTar, writeTar } from "../dist/index.js";
import { buildTree, python, sha256, temporaryDirectory } from "./fixtures.js";

const work = temporaryDirectory("tar");
const tree = join(work.directory, "tree");
beforeAll(() => {
  mkdirSync(tree);
  buildTree(tree);
});
afterAll(() => work.cleanup());

describe.each([false, true])("a tar (gzip: %s)", (gzip) => {
  const path = (name: string) => join(work.directory, `${name}${gzip ? ".tar.gz" : ".tar"}`);

  it("lists the same entries, modes, symlinks and fixed mtime in GNU tar, owned by 0/0", async () => {
    await writeTar(collectTree(tree, { prefix: "environment" }), path("env"), { gzip, level: 1 });
    const listing = execFileSync("tar", [gzip ? "-tzvf" : "-tvf", path("env")], { encoding: "utf8" }).replace(
      / +/g,
      " ",
    );
    expect(listing).toContain("-rwxr-xr-x 0/0 19 1980-01-01 00:00 environment/bin/run.sh");
    expect(listing).toContain(
      "lrwxrwxrwx 0/0 0 1980-01-01 00:00 environment/bin/core-link.py -> ../pkg/core.py",
    );
    expect(listing).toContain("-rw------- 0/0 0 1980-01-01 00:00 environment/data/empty.txt");
    expect(listing).toContain("drwxr-xr-x 0/0 0 1980-01-01 00:00 environment/pkg/");
    const names = listing
      .trim()
      .split("\n")
      .map((line) => line.split(/\s+/)[5]);
    expect(names).toEqual([...names].sort());
    const ours = await listTar(path("env"));
    expect(ours.map((entry) => entry.name)).toEqual(names);
    expect(ours.find((entry) => entry.kind === "symlink")).toMatchObject({
      linkname: "../pkg/core.py",
      uname: "",
      uid: 0,
    });
  });

  it("is byte-identical for the same inputs even after the files are touched", async () => {
    await writeTar(collectTree(tree), path("first"), { gzip });
    utimesSync(join(tree, "pkg/__init__.py"), new Date("2021-01-01"), new Date("2021-01-01"));
    await writeTar(collectTree(tree).reverse(), path("second"), { gzip });
    expect(sha256(path("second"))).toBe(sha256(path("first")));
  });

  it("is extracted by Python's tarfile with modes and symlinks", async () => {
    await writeTar(collectTree(tree), path("py"), { gzip });
    const out = join(work.directory, `extracted-${gzip}`);
    python("import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])", path("py"), out);
    expect(statSync(join(out, "bin/run.sh")).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(out, "bin/core-link.py"))).toBe("../pkg/core.py");
    expect(
      python(
        "import sys; print(open(sys.argv[1], encoding='utf8').read())",
        join(out, "data/café.txt"),
      ).trim(),
    ).toBe("crème");
  });
});

describe("a tar.gz", () => {
  it("has a deterministic gzip header (mtime 0, no file name) and concatenated members gunzip reads", async () => {
    const big = join(work.directory, "big");
    mkdirSync(big);
    execFileSync("sh", ["-c", `head -c 12000000 /dev/urandom | base64 > ${join(big, "noise.txt")}`]);
    const path = join(work.directory, "big.tar.gz");
    await writeTar(collectTree(big), path, { gzip: true, level: 1 });
    const header = execFileSync("head", ["-c", "10", path]);
    expect(header.readUInt32LE(4)).toBe(0); // MTIME
    expect(header[3]).toBe(0); // FLG: no FNAME
    expect(execFileSync("sh", ["-c", `gunzip -c ${path} | tar -tf -`], { encoding: "utf8" })).toBe(
      "noise.txt\n",
    );
  });
});
