import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  condaUnpackCommand,
  getPyenvUsageFromArchive,
  mergeCommaList,
  shellJoin,
  shellQuote,
  splitCommaList,
  toHadoopUri,
} from "../src/index.js";

describe("toHadoopUri", () => {
  it.each([
    ["s3://bucket/envs/env.pex", "s3a://bucket/envs/env.pex"],
    ["S3://bucket/env.pex", "s3a://bucket/env.pex"],
    ["s3n://bucket/env.pex", "s3a://bucket/env.pex"],
    ["s3a://bucket/env.pex", "s3a://bucket/env.pex"],
    ["S3A://bucket/env.pex", "s3a://bucket/env.pex"],
    ["S3N://bucket/env.pex", "s3a://bucket/env.pex"],
    ["hdfs:///user/me/env.pex", "hdfs:///user/me/env.pex"],
    ["viewfs://cluster/env.pex", "viewfs://cluster/env.pex"],
    ["/nfs/envs/env.pex", "/nfs/envs/env.pex"],
    ["file:///nfs/envs/s3://x.pex", "file:///nfs/envs/s3://x.pex"],
  ])("reads %s as %s", (uri, hadoopUri) => {
    expect(toHadoopUri(uri)).toBe(hadoopUri);
  });
});

describe("mergeCommaList", () => {
  it("keeps the user's entries first and adds each new entry once", () => {
    expect(mergeCommaList("a.zip, b.zip", ["b.zip", "c.zip", "c.zip"])).toBe("a.zip,b.zip,c.zip");
  });

  it("starts a list when there is none and drops blank entries", () => {
    expect(mergeCommaList(undefined, ["x.pex", "", "y.zip,z.zip"])).toBe("x.pex,y.zip,z.zip");
    expect(mergeCommaList(" , ", [])).toBe("");
    expect(splitCommaList("a,,b ,")).toEqual(["a", "b"]);
  });
});

describe("shellQuote", () => {
  it("leaves plain words bare so scripts stay readable", () => {
    expect(shellJoin(["./env.pex", "-m", "my_pkg.train", "--lr=0.1", "hdfs:///a/b.zip"])).toBe(
      "./env.pex -m my_pkg.train --lr=0.1 hdfs:///a/b.zip",
    );
  });

  it("quotes words a shell would split, expand or glob, and bash reads them back unchanged", () => {
    const words = ["", "two words", "it's", "$HOME", "a*b", "`x`", 'say "hi"', "line\nbreak", "!"];
    for (const word of words) expect(shellQuote(word)).toMatch(/^'/);
    const echoed = execFileSync("bash", ["-c", `printf '%s\\0' ${shellJoin(words)}`]).toString();
    expect(echoed.split("\0").slice(0, -1)).toEqual(words);
  });
});

describe("condaUnpackCommand", () => {
  it("runs <destPath>/bin/conda-unpack of an unpacked venv or conda archive, when there is one", () => {
    expect(condaUnpackCommand(getPyenvUsageFromArchive("hdfs:///envs/analytics.tar.gz"))).toBe(
      "if [ -x environment/bin/conda-unpack ]; then environment/bin/conda-unpack; fi",
    );
    const renamed = { pathToArchive: "/envs/a.zip", interpreterCmd: "conda/bin/python", destPath: "conda" };
    expect(condaUnpackCommand({ ...renamed, mustUnpack: true })).toBe(
      "if [ -x conda/bin/conda-unpack ]; then conda/bin/conda-unpack; fi",
    );
  });

  it.each(["s3://team/envs/env.pex", "s3://team/envs/env.pex.zip"])("has none for %s", (archive) => {
    expect(condaUnpackCommand(getPyenvUsageFromArchive(archive))).toBeUndefined();
  });
});
