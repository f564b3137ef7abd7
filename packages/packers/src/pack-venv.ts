import { readFileSync, realpathSync } from "node:fs";
import { join, posix, resolve } from "node:path";
import type { ArchiveEntry } from "@cluster-pack/archive";
import { sanitizeLine } from "@cluster-pack/errors";
import { type Distribution, type Interpreter, readDistributions } from "@cluster-pack/python-env";
import { type EditableInArchive, planEditables } from "./editables-in-archive.js";
import {
  compressionLevelOf,
  type EnvArchiveOptions,
  environmentTree,
  type PackedEnvArchive,
  writeEnvArchive,
} from "./env-archive.js";
import { PackerError } from "./errors.js";
import { excludeMatcher } from "./exclude-patterns.js";
import { packedPthFile } from "./pth-file.js";
import { relocateScript, relocationFile } from "./relocatable-scripts.js";
import { type ShippedPython, shippedPython } from "./shipped-python.js";

export interface PackVenvOptions extends EnvArchiveOptions {
  /** The probed interpreter of the venv (`python -m venv`); its prefix is what is packed. */
  interpreter: Pick<Interpreter, "prefix" | "kind" | "version" | "sitePackages">;
  /** Installed distributions to leave out (`ignoredPackages`, or outside `onlyPackages`), with their scripts. */
  excludedDistributions?: readonly Distribution[];
  /** Ship the base interpreter too (binary, shared library, standard library), for nodes without that Python. */
  withPython?: boolean;
  /** Bake editable installs' code into site-packages (default false: it ships as the separate editable zips). */
  includeEditable?: boolean;
}

export interface PackedVenv extends PackedEnvArchive {
  editables: EditableInArchive[];
  /** The interpreter shipped in the archive, with `withPython`. */
  python?: ShippedPython;
}

/**
 * The activation scripts of venv and virtualenv write the venv's absolute path; one relocatable `activate` (bash,
 * zsh) replaces them. virtualenv's `activate_this.py` finds its directory itself and stays.
 */
const isActivationScript = (name: string) =>
  /^bin\/(activate(\.(csh|fish|nu|ps1|bat))?|Activate\.ps1|deactivate(\.(nu|bat))?)$/.test(name);

/**
 * A venv's interpreter links (`bin/python3.11 → /usr/bin/python3.11`) point at its base interpreter, outside it:
 * the venv contract is that the nodes have it at the same path (or the archive ships it, `withPython`). Any other
 * link leaving the venv is refused (or left out, `unsafeLinks: skip`).
 */
const isInterpreterLink = (name: string) => /^bin\/(python|pypy)[0-9.]*$/.test(name);

/**
 * `pyvenv.cfg` without `command` (3.11+ records `python -m venv <this venv's path>`, true only here); `home`
 * stays: the archive's `bin/python` still links to that base interpreter, which the nodes must have.
 */
const relocatedVenvConfig = (text: string) =>
  text
    .split("\n")
    .filter((line) => !/^\s*command\s*=/.test(line))
    .join("\n");

/**
 * Packs a venv into a relocatable `.tar.gz` or `.zip` (`environment/bin/python` once unpacked as `environment`):
 * its files as installed, console scripts that run the `python` beside them wherever they are, a relocatable
 * `activate`, no bytecode. Without `withPython` the nodes need the venv's base interpreter at the same path (the
 * venv contract); with it, the archive carries that interpreter. The same venv gives a byte-identical archive.
 */
export async function packVenv(options: PackVenvOptions): Promise<PackedVenv> {
  const { interpreter } = options;
  compressionLevelOf(options);
  const isExcluded = excludeMatcher(options.exclude);
  if (interpreter.kind !== "venv")
    throw new PackerError(
      "INVALID_ARGUMENT",
      interpreter.kind === "conda"
        ? "a conda environment, not a venv: pack it with the conda packer"
        : "not a virtual environment: the venv packer ships a venv made with python -m venv (or use the pex packer)",
      { location: sanitizeLine(interpreter.prefix) },
    );
  const prefix = resolve(interpreter.prefix);
  const prefixes = [...new Set([prefix, realpathSync(prefix)])];
  const warnings: string[] = [];
  const { distributions } = await readDistributions(interpreter.sitePackages);
  const editables = await planEditables(prefix, distributions, { bake: options.includeEditable ?? false });
  const excluded = new Set(
    (options.excludedDistributions ?? []).flatMap((distribution) =>
      (distribution.files ?? []).map((file) => resolve(distribution.sitePackages, file.path)),
    ),
  );
  const excludedMetadata = (options.excludedDistributions ?? []).map(
    (distribution) => distribution.metadataPath,
  );
  const shipped = options.withPython
    ? await shippedPython(prefix, interpreter.version, interpreter.sitePackages[0] ?? "")
    : undefined;
  const shippedNames = new Set(shipped?.entries.map((entry) => entry.name));

  const isLeftOut = (name: string) => {
    const path = join(prefix, name);
    return (
      isActivationScript(name) ||
      shippedNames.has(name) ||
      (options.withPython === true && name === "pyvenv.cfg") ||
      excluded.has(path) ||
      excludedMetadata.some((metadata) => path === metadata || path.startsWith(`${metadata}/`)) ||
      editables.isLeftOut(path) ||
      isExcluded(name)
    );
  };
  const siteDirectories = new Set(interpreter.sitePackages.map((site) => resolve(site)));
  const tree = environmentTree(prefix, {
    skip: isLeftOut,
    outsideLinks: isInterpreterLink,
    links: { unsafeLinks: options.unsafeLinks ?? "refuse", warnings },
  });
  const entries: ArchiveEntry[] = tree.entries.map((entry) => {
    if (entry.kind !== "file") return entry;
    const path = join(prefix, entry.name);
    const mode = entry.mode ?? 0o644;
    const replaced = editables.replaced.get(path);
    if (replaced) return { kind: "buffer", name: entry.name, data: replaced, mode };
    if (entry.name === "pyvenv.cfg")
      return {
        kind: "buffer",
        name: entry.name,
        data: Buffer.from(relocatedVenvConfig(readFileSync(path, "utf8"))),
        mode,
      };
    if (/^bin\/[^/]+$/.test(entry.name)) {
      const data = readFileSync(path);
      const script = relocateScript(data, prefixes);
      if (prefixes.some((root) => (script ?? data).includes(root)))
        warnings.push(
          sanitizeLine(
            `${entry.name} names the venv's path (${prefix}) and will not find it once unpacked elsewhere`,
          ),
        );
      return script ? { kind: "buffer", name: entry.name, data: script, mode } : entry;
    }
    if (entry.name.endsWith(".pth") && siteDirectories.has(posix.dirname(path))) {
      const data = packedPthFile(entry.name, path, prefixes, warnings);
      return { kind: "buffer", name: entry.name, data, mode };
    }
    return entry;
  });
  entries.push(
    { kind: "buffer", name: "bin/activate", data: relocationFile("activate"), mode: 0o644 },
    ...editables.added.filter((entry) => !isExcluded(entry.name)),
    ...(shipped?.entries ?? []),
  );

  const packed = await writeEnvArchive(entries, { ...options, prefix, warnings });
  return { ...packed, editables: editables.editables, ...(shipped && { python: shipped.python }) };
}
