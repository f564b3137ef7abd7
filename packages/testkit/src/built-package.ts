/**
 * A copy of a package's built code that runs on its own, for tests that run it as another user (root reads
 * everything, so a permission test runs its code as `nobody`, who may not read the checkout).
 *
 * Only `node:` imports: packages that @cluster-pack/testkit depends on (fs) import this file by relative path.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { cp } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** The directory `name` resolves to from `directory`, as Node looks it up: `node_modules/<name>` upwards. */
function dependencyDirectory(name: string, directory: string): string {
  for (let current = directory; ; current = dirname(current)) {
    const candidate = join(current, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(current) === current) throw new Error(`${name}: not installed for ${directory}`);
  }
}

const runtimeDependencies = (directory: string): string[] =>
  Object.keys(
    (
      JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
      }
    ).dependencies ?? {},
  );

/**
 * Copies `<packageDirectory>/dist` into `into` (so `<into>/index.js` is the package's entry) and every runtime
 * dependency, transitively, into `<into>/node_modules/<name>` (links dereferenced, their own node_modules left
 * out: the copy is flat). Whatever the package comes to import, the copy resolves it without the checkout.
 */
export async function copyBuiltPackage(packageDirectory: string, into: string): Promise<void> {
  await cp(join(packageDirectory, "dist"), into, { recursive: true });
  const copied = new Set<string>();
  const pending = runtimeDependencies(packageDirectory).map((name) => ({ name, from: packageDirectory }));
  for (let next = pending.shift(); next; next = pending.shift()) {
    if (copied.has(next.name)) continue;
    copied.add(next.name);
    const source = dependencyDirectory(next.name, next.from);
    await cp(source, join(into, "node_modules", next.name), {
      recursive: true,
      dereference: true,
      filter: (path) => !(basename(path) === "node_modules" && dirname(path) === source),
    });
    for (const name of runtimeDependencies(source)) pending.push({ name, from: source });
  }
}
