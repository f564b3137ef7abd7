import { existsSync } from "node:fs";
import {
  copyFile,
  link,
  lstat,
  mkdir,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import { listDistributions, probeInterpreter, readDistributions } from "@cluster-pack/python-env";
import { runOrThrow } from "./measure.mjs";

export const DEBIAN_STACK = [
  "python3-pandas",
  "python3-scipy",
  "python3-sklearn",
  "python3-matplotlib",
  "python3-distributed",
];
const DEBIAN_SITE = "/usr/lib/python3/dist-packages";

/**
 * A fixture is what every tool packs: `tree`, a hard-linked copy of exactly the files our packer takes from the
 * environment (no `__pycache__`, nothing outside site-packages), so the peers archive the same bytes; and the
 * `distributions` handed to `packZipapp`, pointing into that tree.
 */
export async function prepareFixture(name, workDir, log) {
  if (name === "debian") return debianFixture(workDir, log);
  if (name === "pyenv") return pyenvFixture(workDir, log);
  throw new Error(`unknown fixture "${name}": use debian or pyenv`);
}

async function dpkgStatus(pkg) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template.
  const { stdout } = await runOrThrow("dpkg-query", ["-W", "-f=${Status} ${Version}\\n", pkg]).catch(() => ({
    stdout: "",
  }));
  const [, , status, version] = stdout.trim().split(" ");
  return status === "installed" ? version : undefined;
}

async function ensureDebianStack(log) {
  const missing = [];
  for (const pkg of DEBIAN_STACK) if (!(await dpkgStatus(pkg))) missing.push(pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(`missing Debian packages ${missing.join(" ")}: run as root or apt-get install them`);
  // Recommends stay out: the fixture is the stack and what it depends on, as a cluster image would carry it.
  const args = ["install", "-y", "--no-install-recommends", ...missing];
  log(`installing the fixture: apt-get ${args.join(" ")}`);
  await runOrThrow("apt-get", args, { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

/** Installed packages in the dependency closure of the stack (Depends and Pre-Depends, as apt installed them). */
async function debianClosure() {
  const { stdout } = await runOrThrow("apt-cache", [
    "depends",
    "--recurse",
    "--installed",
    "--no-recommends",
    "--no-suggests",
    "--no-conflicts",
    "--no-breaks",
    "--no-replaces",
    "--no-enhances",
    ...DEBIAN_STACK,
  ]);
  const names = new Set(
    stdout
      .split("\n")
      .filter((line) => line && !line.startsWith(" ") && !line.startsWith("<"))
      .map((line) => line.trim().replace(/:.*$/, "")),
  );
  return [...names].sort();
}

async function dpkgFiles(pkg) {
  for (const list of [`/var/lib/dpkg/info/${pkg}.list`, `/var/lib/dpkg/info/${pkg}:amd64.list`]) {
    if (existsSync(list)) return (await readFile(list, "utf8")).split("\n").filter(Boolean);
  }
  return [];
}

const isPacked = (path) => !/(^|\/)__pycache__(\/|$)/.test(path);

/**
 * Where a file of the environment goes in the tree, or `undefined` to leave it out. Debian links some bundled
 * files (matplotlib's jQuery, fonts) to /usr/share: a link leaving site-packages is replaced by its target's
 * content (an archive must not hold links out of itself: our bootstrap refuses them), a dangling one is dropped
 * (it is broken in the environment too, and zipfile/zip cannot read it).
 */
async function stagingPlan(source, site) {
  const stats = await lstat(source).catch(() => undefined);
  if (!stats || stats.isDirectory()) return undefined;
  if (!stats.isSymbolicLink()) return { kind: "file", from: source };
  const resolved = await realpath(source).catch(() => undefined);
  if (!resolved || !(await stat(resolved)).isFile()) return undefined;
  if (resolved.startsWith(`${await realpath(site)}/`))
    return { kind: "symlink", target: await readlink(source) };
  return { kind: "file", from: resolved };
}

/** Hard links keep the tree free (same inodes, same page cache); a copy only when linking is impossible. */
async function stageFile(plan, target) {
  await mkdir(dirname(target), { recursive: true });
  if (plan.kind === "symlink") return symlink(plan.target, target);
  try {
    await link(plan.from, target);
  } catch {
    await copyFile(plan.from, target);
  }
}

async function stage(tree, files) {
  await rm(tree, { recursive: true, force: true });
  let bytes = 0;
  for (const { plan, path } of files) {
    await stageFile(plan, join(tree, path));
    if (plan.kind === "file") bytes += (await stat(plan.from)).size;
  }
  return bytes;
}

async function debianFixture(workDir, log) {
  await ensureDebianStack(log);
  const interpreter = await probeInterpreter("/usr/bin/python3");
  // Debian strips RECORD from its packages (dh_python3): listDistributions finds most without a file list,
  // and packZipapp refuses those. dpkg's own file lists say which files each package installed.
  const listed = await listDistributions(interpreter);
  const withoutFiles = listed.distributions.filter((d) => !d.files).map((d) => d.name);
  log(
    `listDistributions(/usr/bin/python3): ${listed.distributions.length} distributions, ${withoutFiles.length} without RECORD; using dpkg's file lists of the stack's dependency closure instead`,
  );
  const tree = join(workDir, "tree");
  const packages = await debianClosure();
  const distributions = [];
  const files = [];
  for (const pkg of packages) {
    const paths = (await dpkgFiles(pkg))
      .filter((path) => path.startsWith(`${DEBIAN_SITE}/`) && isPacked(path))
      .map((path) => path.slice(DEBIAN_SITE.length + 1));
    const owned = [];
    for (const path of paths) {
      const plan = await stagingPlan(join(DEBIAN_SITE, path), DEBIAN_SITE);
      if (!plan) continue;
      owned.push({ path });
      files.push({ plan, path });
    }
    if (owned.length === 0) continue;
    distributions.push({
      name: pkg,
      normalizedName: pkg,
      version: (await dpkgStatus(pkg)) ?? "0",
      sitePackages: tree,
      metadataPath: tree,
      format: "dist-info",
      wheelTags: [],
      files: owned,
      topLevel: [],
      requiresDist: [],
      editable: false,
    });
  }
  const bytes = await stage(tree, files);
  return {
    name: "debian-scientific",
    description: `Debian 12's ${DEBIAN_STACK.join(" ")} and their dependency closure (${distributions.length} packages with files in ${DEBIAN_SITE})`,
    python: "/usr/bin/python3",
    interpreter,
    distributions,
    tree,
    files: files.length,
    bytes,
  };
}

async function pyenvFixture(workDir, log) {
  const interpreter = await probeInterpreter("python3");
  const listed = await listDistributions(interpreter);
  const distributions = listed.distributions.filter((d) => d.files && !d.editable);
  log(
    `python3 (${interpreter.executable}): ${distributions.length} distributions in ${interpreter.sitePackages.join(", ")}`,
  );
  const tree = join(workDir, "tree");
  const files = [];
  const seen = new Set();
  for (const distribution of distributions)
    for (const { path } of distribution.files) {
      const normal = join(".", path);
      if (normal.startsWith("..") || normal.startsWith("/") || !isPacked(normal) || seen.has(normal))
        continue;
      const plan = await stagingPlan(join(distribution.sitePackages, normal), distribution.sitePackages);
      if (!plan) continue;
      seen.add(normal);
      files.push({ plan, path: normal });
    }
  const bytes = await stage(tree, files);
  return {
    name: "pyenv",
    description: `the machine's python3 (${interpreter.executable} ${interpreter.version}) site-packages: ${distributions.length} distributions`,
    python: interpreter.executable,
    interpreter,
    distributions: distributions.map((d) => ({ ...d, sitePackages: tree })),
    tree,
    files: files.length,
    bytes,
  };
}

/** A synthetic venv-like site-packages (see synthetic.mjs), already laid out as the tree. */
export async function syntheticFixture(sitePackages, python) {
  const interpreter = await probeInterpreter(python);
  const { distributions } = await readDistributions([sitePackages]);
  let files = 0;
  let bytes = 0;
  for (const d of distributions)
    for (const f of d.files ?? []) {
      files++;
      bytes += f.size ?? 0;
    }
  return { interpreter, distributions, tree: sitePackages, files, bytes };
}
