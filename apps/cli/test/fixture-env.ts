import { join } from "node:path";
import {
  buildWheel,
  createVenv,
  installEditable,
  machinePython,
  pipInstall,
  type Venv,
  writeProject,
} from "@cluster-pack/testkit";

/** A venv with `purepkg` installed from a wheel and `devpkg` installed in development mode (pip install -e). */
export async function createFixtureVenv(root: string): Promise<Venv> {
  const wheels = join(root, "wheels");
  await buildWheel(
    { name: "purepkg", version: "1.0", files: { "purepkg/__init__.py": 'VALUE = "wheel"\n' } },
    wheels,
  );
  const venv = await createVenv(machinePython, join(root, "venv"));
  await pipInstall(venv, ["purepkg"], [wheels]);
  const project = join(root, "devpkg");
  await writeProject(
    { name: "devpkg", version: "0.1", files: { "devpkg/__init__.py": 'STATE = "dev"\n' } },
    project,
    { pyproject: true },
  );
  await installEditable(venv, project, "pep660");
  return venv;
}

export const importBoth = "import purepkg, devpkg; print(purepkg.VALUE, devpkg.STATE)";
