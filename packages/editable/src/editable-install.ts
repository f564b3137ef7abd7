import type { EditableError } from "./errors.js";

/**
 * One importable top-level name of an editable distribution and where its source lives:
 * a regular package (directory with `__init__.py`), a PEP 420 namespace package (directory without one),
 * or a single module (`mod.py`, or a compiled extension built in place).
 */
export interface ImportableTopLevel {
  /** The import name: `import <name>`. */
  name: string;
  kind: "package" | "namespace" | "module";
  /** The package or namespace directory, or the module file. */
  path: string;
}

/** How the installer made the project importable, which tells where its top-levels were read from. */
export type EditableMechanism =
  /** setuptools ≥ 64 (PEP 660): `__editable__.<name>-<ver>.pth` importing a finder with a `MAPPING`. */
  | "finder"
  /** A `.pth` path entry (setuptools src layouts, hatchling, flit, pdm), found through the RECORD. */
  | "pth"
  /** Legacy `setup.py develop`: `<name>.egg-link` + `easy-install.pth`. */
  | "egg-link"
  /** Only PEP 610 `direct_url.json` is known: top-levels found by scanning the project (and its `src/`). */
  | "direct-url";

/** A distribution installed in development mode (`pip install -e`). */
export interface EditableInstall {
  /** PEP 503 normalised name (`flat-pkg`). */
  name: string;
  version: string;
  /** The project directory, as `pip list --editable` reports it (`editable_project_location`). */
  projectDir: string;
  mechanism: EditableMechanism;
  /** The site-packages directory the distribution was found in (python-env's `sitePackages`). */
  sitePackages: string;
  /** Sorted by name. */
  topLevels: ImportableTopLevel[];
}

/**
 * What detection found. Problems are returned, not thrown, so one broken editable does not hide the others;
 * a caller about to ship code should refuse to go on while `problems` is not empty (each is one clear line).
 */
export interface EditableScan {
  /** Sorted by name; one per distribution name, the first given (python-env lists the one on `sys.path`). */
  editables: EditableInstall[];
  problems: EditableError[];
}
