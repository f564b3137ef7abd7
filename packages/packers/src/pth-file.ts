import { readFileSync } from "node:fs";
import { isAbsolute, posix } from "node:path";

const within = (path: string, prefixes: readonly string[]) =>
  prefixes.find((prefix) => path === prefix || path.startsWith(`${prefix}/`));

/**
 * A `.pth` file made to follow its environment: path lines naming a directory inside the environment by its
 * absolute path become relative to the site directory (site.py joins relative lines to it); lines naming a
 * directory outside are returned, as they will not exist where the archive is unpacked.
 */
export function relocatePthFile(
  text: string,
  siteDirectory: string,
  prefixes: readonly string[],
): { text: string; outside: string[] } {
  const siteRoot = within(siteDirectory, prefixes);
  const outside: string[] = [];
  const lines = text.split("\n").map((line) => {
    const path = line.trim();
    if (!isAbsolute(path)) return line; // imports, comments, relative paths
    const root = within(path, prefixes);
    if (!root || !siteRoot) {
      outside.push(path);
      return line;
    }
    return posix.relative(siteDirectory.slice(siteRoot.length) || "/", path.slice(root.length) || "/") || ".";
  });
  return { text: lines.join("\n"), outside };
}

/** The bytes to pack for a site directory's `.pth` file (`name` in the archive), with a warning per outside line. */
export function packedPthFile(
  name: string,
  path: string,
  prefixes: readonly string[],
  warnings: string[],
): Buffer {
  const pth = relocatePthFile(readFileSync(path, "utf8"), posix.dirname(path), prefixes);
  for (const outside of pth.outside)
    warnings.push(`${name} puts ${outside} on sys.path, which will not exist where the archive is unpacked`);
  return Buffer.from(pth.text);
}
