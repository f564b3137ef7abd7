import { describe, expect, it } from "vitest";
import { parseFinderMapping } from "../src/finder-mapping.js";

describe("parseFinderMapping", () => {
  it("reads setuptools' MAPPING and NAMESPACES, annotated or not", () => {
    const source = [
      "import sys",
      "MAPPING: dict[str, str] = {'a': '/p/a', \"it's\": '/p/it\\'s', 'ns.x': '/p/ns/x',}",
      "NAMESPACES = {'ns': ['/p/ns'], 'empty': []}",
    ].join("\n");
    const finder = parseFinderMapping(source);
    expect(finder?.mapping).toEqual(
      new Map([
        ["a", "/p/a"],
        ["it's", "/p/it's"],
        ["ns.x", "/p/ns/x"],
      ]),
    );
    expect(finder?.namespaces).toEqual(
      new Map([
        ["ns", ["/p/ns"]],
        ["empty", []],
      ]),
    );
  });

  it("decodes the escapes repr() writes for unusual paths", () => {
    const finder = parseFinderMapping("MAPPING = {'m': '/d\\\\x/\\xe9t\\u00e9\\U0001f600\\n'}\n");
    expect(finder?.mapping.get("m")).toBe("/d\\x/été😀\n");
  });

  it("has no answer for a module without MAPPING, and throws on a MAPPING that is not a dict of strings", () => {
    expect(parseFinderMapping("import sys\n")).toBeUndefined();
    expect(() => parseFinderMapping("MAPPING = {'a': 1}")).toThrow();
    expect(() => parseFinderMapping("MAPPING = {'a': '/x'")).toThrow();
  });
});
