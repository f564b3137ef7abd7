/**
 * A kind of file most environments ship without needing it at run time, as the `--exclude` patterns that leave it
 * out (`@cluster-pack/packers`' exclude-patterns.ts: fnmatch on paths inside the archive, a matched directory
 * leaves out all it holds).
 */
export interface CommonExclude {
  label: string;
  patterns: string[];
  /** What a user risks by leaving these files out, for the report's reader. */
  caveat: string;
}

// `*/tests` and not `tests`: a package's own test suite, never a top-level `tests` package some wheel installs by
// mistake and some code may import. The same patterns work for every layout: `*` crosses `/`, so `*/tests` matches
// `numpy/tests` under `.deps/` and `lib/python3.11/site-packages/numpy/tests` in a venv archive alike.
export const COMMON_EXCLUDES: readonly CommonExclude[] = [
  {
    label: "test suites",
    patterns: ["*/tests", "*/test"],
    caveat: "only code that imports a package's tests needs them",
  },
  {
    label: "static libraries",
    patterns: ["*.a"],
    caveat: "used only to build extensions against, never loaded by Python",
  },
  {
    label: "bytecode caches",
    patterns: ["*/__pycache__", "*.pyc"],
    caveat: "Python recompiles on import; the zipapp leaves them out already",
  },
  {
    label: "documentation",
    patterns: ["*/docs", "*/doc"],
    caveat: "a package that reads its own docs at run time breaks",
  },
];
