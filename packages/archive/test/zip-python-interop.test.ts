import { execFileSync } from "node:child_process";
import { mkdirSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectTree, listZip, verifyZip, writeZip } from "../dist/index.js";
import { buildTree, hasCommand, python, temporaryDirectory } from "./fixtures.js";

const work = temporaryDirectory("interop");
const tree = join(work.directory, "tree");

beforeAll(() => {
  mkdirSync(tree);
  buildTree(tree);
});
afterAll(() => work.cleanup());

describe.each([0, 1, 9])("a zip at level %i", (level) => {
  const archive = () => join(work.directory, `tree-${level}.zip`);
  beforeAll(async () => {
    await writeZip(collectTree(tree), archive(), { level });
  });

  it("passes Python's zipfile test and our CRC check", async () => {
    expect(
      python("import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).testzip())", archive()).trim(),
    ).toBe("None");
    execFileSync("python3", ["-m", "zipfile", "-t", archive()]);
    expect((await verifyZip(archive())).entries).toBe(9);
  });

  it.runIf(hasCommand("unzip"))("passes unzip -t without warnings", () => {
    expect(execFileSync("unzip", ["-t", archive()], { encoding: "utf8" })).toContain("No errors detected");
  });

  it("keeps unix modes and symlinks in the external attributes Python reads", () => {
    const modes = JSON.parse(
      python(
        "import sys,zipfile,json; print(json.dumps({i.filename: i.external_attr >> 16 for i in zipfile.ZipFile(sys.argv[1]).infolist()}))",
        archive(),
      ),
    ) as Record<string, number>;
    expect(modes["bin/run.sh"]).toBe(0o100755);
    expect(modes["data/empty.txt"]).toBe(0o100600);
    expect(modes["pkg/__init__.py"]).toBe(0o100644);
    expect(modes["bin/core-link.py"]).toBe(0o120777);
    expect(modes["pkg/"]).toBe(0o040755);
    expect(
      python(
        "import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).read('bin/core-link.py').decode())",
        archive(),
      ).trim(),
    ).toBe("../pkg/core.py");
    expect(
      python(
        "import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).read('data/café.txt').decode())",
        archive(),
      ).trim(),
    ).toBe("crème");
  });

  it.runIf(hasCommand("unzip"))("restores modes and symlinks through unzip", () => {
    const out = join(work.directory, `unzipped-${level}`);
    execFileSync("unzip", ["-q", archive(), "-d", out]);
    expect(statSync(join(out, "bin/run.sh")).mode & 0o777).toBe(0o755);
    expect(statSync(join(out, "data/empty.txt")).mode & 0o777).toBe(0o600);
    expect(readlinkSync(join(out, "bin/core-link.py"))).toBe("../pkg/core.py");
  });
});

describe("a zip with a shebang prefix", () => {
  it("runs as a zipapp and imports a module from the archive through zipimport", async () => {
    const app = join(work.directory, "app.pyz");
    const main =
      "import sys, pkg, pkg.core\nprint(pkg.VALUE, pkg.core.answer(), pkg.__file__.startswith(sys.argv[0]))\n";
    const entries = [
      ...collectTree(join(tree, "pkg"), { prefix: "pkg" }),
      { kind: "buffer" as const, name: "__main__.py", data: Buffer.from(main) },
    ];
    await writeZip(entries, app, { level: 1, prefix: "#!/usr/bin/env python3\n", fileMode: 0o755 });
    expect(execFileSync("python3", [app], { encoding: "utf8" })).toBe("42 forty-two True\n");
    expect(execFileSync(app, { encoding: "utf8" })).toBe("42 forty-two True\n");
    const listing = await listZip(app);
    expect(listing.prefixBytes).toBe("#!/usr/bin/env python3\n".length);
    expect(execFileSync("unzip", ["-t", app], { encoding: "utf8" })).toContain("No errors detected");
  });
});
