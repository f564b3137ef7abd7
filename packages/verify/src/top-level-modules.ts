import { readDistributions } from "@cluster-pack/python-env";

export interface TopLevelModule {
  module: string;
  distribution: string;
  /** The site directory holding it. */
  siteDirectory: string;
}

/** A name `import` accepts: `top_level.txt` sometimes lists paths (`foo/bar`) or nothing importable. */
const isImportable = (name: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);

/**
 * Every top-level module the distributions of these site directories ship (`top_level.txt`, else derived from
 * RECORD), each once, sorted; editable installs are left out: their code ships beside the archive, not in it.
 */
export async function topLevelModules(siteDirectories: readonly string[]): Promise<TopLevelModule[]> {
  const { distributions } = await readDistributions(siteDirectories);
  const modules = new Map<string, TopLevelModule>();
  for (const distribution of distributions) {
    if (distribution.editable) continue;
    for (const module of distribution.topLevel)
      if (isImportable(module) && !modules.has(module))
        modules.set(module, {
          module,
          distribution: distribution.name,
          siteDirectory: distribution.sitePackages,
        });
  }
  return [...modules.values()].sort((a, b) => (a.module < b.module ? -1 : a.module > b.module ? 1 : 0));
}
