import { run } from "@cluster-pack/testkit";

/** What the interpreter itself reports about its distributions, to check the model against. */
export interface ImportlibDistribution {
  name: string;
  version: string;
  /** The site directory holding its metadata. */
  location: string;
  files: string[] | null;
  requires: string[] | null;
}

const script = `
import importlib.metadata as m, json, os
print(json.dumps([
    {"name": d.metadata["Name"], "version": d.version, "location": os.path.dirname(str(d._path).rstrip("/")),
     "files": None if d.files is None else [str(f) for f in d.files], "requires": d.requires}
    for d in m.distributions()
]))
`;

export async function importlibDistributions(python: string): Promise<ImportlibDistribution[]> {
  return JSON.parse(await run(python, ["-c", script])) as ImportlibDistribution[];
}

/** `pip list --format json` with extra flags (`-l`, `--exclude-editable`…), as `[name, version]` pairs. */
export async function pipList(
  python: string,
  flags: readonly string[] = [],
): Promise<Array<[string, string]>> {
  const output = await run(python, ["-m", "pip", "list", "--format", "json", ...flags]);
  return (JSON.parse(output.split("\n")[0] ?? "[]") as Array<{ name: string; version: string }>).map((p) => [
    p.name,
    p.version,
  ]);
}

export async function pythonAnswer<T>(python: string, expression: string): Promise<T> {
  return JSON.parse(
    await run(python, ["-c", `import json, platform, sys, sysconfig; print(json.dumps(${expression}))`]),
  );
}
