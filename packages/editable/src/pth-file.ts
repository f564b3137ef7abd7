import { resolve } from "node:path";

/** What a `.pth` file in site-packages adds to `sys.path` (module `site`, "Site-specific configuration hook"). */
export interface PthFile {
  /** Directories appended to `sys.path`, absolute (relative lines are relative to site-packages). */
  pathEntries: string[];
  /** Modules named by `import <module>` lines: setuptools' editable finders are the ones we understand. */
  importedModules: string[];
}

export function parsePthFile(text: string, sitePackages: string): PthFile {
  const pathEntries: string[] = [];
  const importedModules: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trimEnd();
    if (line === "" || line.startsWith("#")) continue;
    // `site` executes lines starting with "import" followed by a space or tab, and adds every other line.
    if (/^import[ \t]/.test(line)) {
      const module = /^import[ \t]+([A-Za-z_][\w.]*)/.exec(line)?.[1];
      if (module) importedModules.push(module);
      continue;
    }
    pathEntries.push(resolve(sitePackages, line));
  }
  return { pathEntries, importedModules };
}
