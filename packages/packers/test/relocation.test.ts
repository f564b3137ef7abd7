import { readFileSync } from "node:fs";
import { debianPython, pythonFacts } from "@cluster-pack/testkit";
import { describe, expect, it } from "vitest";
import { readElfDynamic, withSearchPath } from "../src/elf-dynamic.js";
import { isNoRoom, replaceInBinary, replaceInText } from "../src/prefix-replacement.js";
import { relocatePthFile } from "../src/pth-file.js";
import { relocateScript } from "../src/relocatable-scripts.js";

const bytes = (text: string) => Buffer.from(text, "latin1");
// A real interpreter binary without RUNPATH: Debian's, whatever its version (the binary behind /usr/bin/python3).
const debianBinary = (await pythonFacts(debianPython)).executable;

describe("binary prefix replacement", () => {
  it("keeps the file's length: a shorter path is followed by the NULs it freed", () => {
    const data = bytes("\x01/long/placeholder/lib\0\x02");
    const replaced = replaceInBinary(data, "/long/placeholder", "/env");
    expect(replaced).toEqual(bytes("\x01/env/lib\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02"));
  });

  it("grows a path into the NULs an earlier replacement left, then back", () => {
    const slot = (text: string, padding: number) =>
      Buffer.concat([bytes(`${text}\0`), Buffer.alloc(padding), bytes("\x02")]);
    // Two occurrences grow by 2 × 10 bytes: 27 NULs of padding become 7.
    const installed = slot("/env/lib:/env/lib64", 27);
    const placeholder = replaceInBinary(installed, "/env", "/placeholder/x");
    expect(placeholder).toEqual(slot("/placeholder/x/lib:/placeholder/x/lib64", 7));
    expect(replaceInBinary(placeholder as Buffer, "/placeholder/x", "/env")).toEqual(installed);
  });

  it("refuses to grow a string with no room after it, naming where", () => {
    const result = replaceInBinary(bytes("ab/env/lib\0\x01"), "/env", "/a-longer-one");
    expect(isNoRoom(result) && result).toEqual({ offset: 2, missing: 9 });
  });

  it("leaves text and strings without the prefix alone", () => {
    expect(replaceInText(bytes("a /p/x /p/y"), "/p", "/q")).toEqual(bytes("a /q/x /q/y"));
    const data = bytes("nothing here\0");
    expect(replaceInBinary(data, "/p", "/q")).toEqual(data);
  });
});

describe("console scripts", () => {
  const prefix = "/home/me/venvs/app";
  const relocated = (name: string, options = "") =>
    `#!/bin/sh\n'''exec' "$(dirname -- "$(realpath -- "$0")")/${name}"${options} "$0" "$@"\n' '''\n`;

  it("runs the interpreter beside the script instead of the venv's absolute path", () => {
    const script = bytes(`#!${prefix}/bin/python3.11 -E\nimport tool\n`);
    expect(relocateScript(script, [prefix])?.toString()).toBe(
      `${relocated("python3.11", " -E")}import tool\n`,
    );
  });

  it("rewrites pip's /bin/sh form for long paths too", () => {
    const script = bytes(`#!/bin/sh\n'''exec' "${prefix}/bin/python" "$0" "$@"\n' '''\nimport tool\n`);
    expect(relocateScript(script, [prefix])?.toString()).toBe(`${relocated("python")}import tool\n`);
  });

  it("leaves scripts for other interpreters and binaries unchanged", () => {
    expect(relocateScript(bytes("#!/usr/bin/env bash\necho\n"), [prefix])).toBeUndefined();
    expect(relocateScript(bytes(`#!${prefix}-other/bin/python\n`), [prefix])).toBeUndefined();
    expect(relocateScript(bytes("\x7fELF..."), [prefix])).toBeUndefined();
  });
});

describe(".pth files", () => {
  it("makes paths inside the environment relative to the site directory and reports the others", () => {
    const site = "/env/lib/python3.11/site-packages";
    const { text, outside } = relocatePthFile("/env/src/lib\nimport x\n/home/me/project\n", site, ["/env"]);
    expect(text).toBe("../../../src/lib\nimport x\n/home/me/project\n");
    expect(outside).toEqual(["/home/me/project"]);
  });
});

describe("ELF search paths", () => {
  it("reads the libraries an interpreter loads and where it looks for them", () => {
    const dynamic = readElfDynamic(readFileSync(debianBinary));
    expect(dynamic?.needed).toContain("libc.so.6");
    expect(dynamic?.searchPaths).toEqual([]);
  });

  it("cannot give a RUNPATH to a binary that has none", () => {
    expect(withSearchPath(readFileSync(debianBinary), "$ORIGIN/../lib")).toBeUndefined();
  });

  it("is not fooled by a file that is not ELF", () => {
    expect(
      readElfDynamic(Buffer.from("#!/bin/sh\necho hello, this is long enough to have a header\n")),
    ).toBeUndefined();
  });
});
