import { run, type Venv } from "@cluster-pack/testkit";

/** What the interpreter itself says about editables: `pip list --editable` and `importlib.util.find_spec`. */
export interface InterpreterView {
  editables: { name: string; version: string; location: string }[];
  specs: Record<string, { origin: string | null; locations: string[] | null }>;
}

const specScript = `
import importlib.util, json, sys
specs = {}
for name in sys.argv[1:]:
    spec = importlib.util.find_spec(name)
    locations = spec.submodule_search_locations
    specs[name] = {"origin": spec.origin, "locations": None if locations is None else list(locations)}
print(json.dumps(specs))
`;

export async function interpreterView(venv: Venv, importNames: readonly string[]): Promise<InterpreterView> {
  const listed = JSON.parse(
    (await run(venv.python, ["-m", "pip", "list", "--editable", "--format", "json"])).split("\n")[0] ?? "[]",
  ) as { name: string; version: string; editable_project_location: string }[];
  const specs = JSON.parse(await run(venv.python, ["-c", specScript, ...importNames]));
  return {
    editables: listed.map(({ name, version, editable_project_location }) => ({
      name: name.replace(/[-_.]+/g, "-").toLowerCase(),
      version,
      location: editable_project_location,
    })),
    specs,
  };
}
