import { createShippableVenv, type Venv } from "@cluster-pack/testkit";

/** testkit's shippable venv under `root`: `purepkg` installed from a wheel, `devpkg` in development mode. */
export async function createFixtureVenv(root: string): Promise<Venv> {
  return (await createShippableVenv(root)).venv;
}

export { importBoth } from "@cluster-pack/testkit";
