import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./measure.mjs";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Build tooling, not runtime code: setuptools' `_distutils_hack` asserts that no stdlib `distutils` was imported
 * before it, which depends on what the launcher imported first (a bootstrap, `site`), not on the archive.
 */
const BUILD_TOOLING = new Set([
  "_distutils_hack",
  "setuptools",
  "pkg_resources",
  "pip",
  "wheel",
  "distutils",
]);

/** Top-level importable names of a site-packages tree: packages (with `__init__.py`), `.py` modules, extensions. */
export async function topLevelModules(tree) {
  const names = new Set();
  for (const entry of await readdir(tree, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const init = await stat(join(tree, entry.name, "__init__.py")).catch(() => undefined);
      if (init && IDENTIFIER.test(entry.name)) names.add(entry.name);
    } else if (entry.name.endsWith(".py")) {
      const name = entry.name.slice(0, -3);
      if (IDENTIFIER.test(name)) names.add(name);
    } else if (entry.name.endsWith(".so")) {
      const name = entry.name.split(".")[0];
      if (IDENTIFIER.test(name)) names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * Which top-level modules import cleanly from the tree alone under the plain interpreter (`-S`: no host
 * site-packages, so a module that needs something outside the fixture is skipped rather than found elsewhere).
 * Bytecode goes to a scratch prefix so the tree stays exactly what is packed.
 */
export async function importableModules(python, tree, scratch, log) {
  const all = await topLevelModules(tree);
  const candidates = all.filter((name) => !BUILD_TOOLING.has(name));
  const env = {
    ...process.env,
    PYTHONPATH: tree,
    PYTHONPYCACHEPREFIX: join(scratch, "pycache"),
    MPLBACKEND: "Agg",
  };
  const importable = [];
  const skipped = all
    .filter((name) => BUILD_TOOLING.has(name))
    .map((name) => ({ name, reason: "build tooling" }));
  const queue = [...candidates];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const { code, stderr } = await run("timeout", ["120", python, "-S", "-c", `import ${name}`], { env });
      if (code === 0) importable.push(name);
      else skipped.push({ name, reason: lastLine(stderr) || `exit ${code}` });
    }
  };
  await Promise.all([worker(), worker()]);
  importable.sort();
  skipped.sort((a, b) => a.name.localeCompare(b.name));
  // Together, too: one module can break another (import order, global state).
  for (;;) {
    const { code, stderr } = await run(python, ["-S", "-c", importStatement(importable)], { env });
    if (code === 0) break;
    const culprit = importable.pop();
    skipped.push({ name: culprit, reason: `fails when imported with the others: ${lastLine(stderr)}` });
  }
  log(
    `importing ${importable.length} top-level modules; skipped ${skipped.length}: ${skipped.map((s) => s.name).join(" ")}`,
  );
  return { importable, skipped };
}

const lastLine = (text) => text.trim().split("\n").pop()?.slice(0, 160) ?? "";

export const importStatement = (modules) => (modules.length ? `import ${modules.join(", ")}` : "pass");
