import { PackerError } from "./errors.js";

// `exclude` patterns: files of the environment left out of its archive. A pattern is matched the way Python's
// `fnmatch.fnmatchcase` matches (conda-pack's `--exclude` does the same), against a path inside the archive,
// relative to the environment: for a zipapp or unpack layout the path under `.deps/` (`numpy/tests/test_a.py`),
// for a venv or conda archive the path inside the environment (`lib/python3.11/site-packages/numpy/tests/test_a.py`).
// - `*` matches any characters, `/` included (so `*.a` is every `.a` file and `*/tests/*` everything under a
//   `tests` directory); `**` is the same as `*`; `?` matches one character; `[abc]`, `[a-z]` and `[!abc]` one
//   character of (not of) the set. Case matters.
// - A pattern that matches a directory leaves out everything under it (`*/tests`).
// Only the environment's own files are matched: the files the packers add (the zipapp's bootstrap and PEX-INFO,
// the relocatable `bin/activate`, `bin/conda-unpack` and its records, an interpreter shipped with `withPython`)
// always ship. (Line comments: a block comment would end at the first `*` followed by `/` in the examples.)

/** Whether a path inside the archive is left out. */
export type ExcludeMatcher = (path: string) => boolean;

/** What is wrong with a pattern, in one line; undefined when it is a pattern the packers can use. */
export function excludePatternProblem(pattern: string): string | undefined {
  if (pattern.trim() === "") return "an exclude pattern is empty";
  if (pattern.startsWith("/"))
    return `exclude pattern "${pattern}" is absolute: patterns match paths inside the archive, relative to the environment (e.g. */tests/*)`;
  try {
    patternExpression(pattern);
  } catch {
    return `exclude pattern "${pattern}" has a bad character set (a range such as [z-a]?)`;
  }
  return undefined;
}

/**
 * The patterns as they are compared and recorded: `./` and trailing `/` dropped (they name the same files), sorted,
 * each once, so that the same intent gives the same cache key. A bad pattern is refused.
 */
export function normalizeExcludePatterns(patterns: readonly string[] = []): string[] {
  const normalized = patterns.map((pattern) => {
    const problem = excludePatternProblem(pattern);
    if (problem) throw new PackerError("INVALID_ARGUMENT", problem);
    return pattern.replace(/^(\.\/)+/, "").replace(/(.)\/+$/, "$1");
  });
  return [...new Set(normalized)].sort();
}

/** `fnmatch.translate`: a pattern as an anchored regular expression. */
function patternExpression(pattern: string): RegExp {
  let source = "";
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern.charAt(index);
    if (character === "*") {
      while (pattern.charAt(index + 1) === "*") index++;
      source += ".*";
    } else if (character === "?") source += ".";
    else if (character === "[") {
      // A `]` right after `[` or `[!` is part of the set; with no closing `]`, `[` is itself.
      let end = index + 1;
      if (pattern.charAt(end) === "!") end++;
      if (pattern.charAt(end) === "]") end++;
      end = pattern.indexOf("]", end);
      if (end === -1) {
        source += "\\[";
        continue;
      }
      let set = pattern.slice(index + 1, end).replace(/\\/g, "\\\\");
      if (set.startsWith("!")) set = `^${set.slice(1)}`;
      else if (set.startsWith("^")) set = `\\${set}`;
      source += `[${set.replace(/\[/g, "\\[").replace(/\]/g, "\\]")}]`;
      index = end;
    } else source += character.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

/** Whether a path, or a directory holding it, matches one of the patterns (normalized or not). */
export function excludeMatcher(patterns: readonly string[] = []): ExcludeMatcher {
  const expressions = normalizeExcludePatterns(patterns).map(patternExpression);
  if (expressions.length === 0) return () => false;
  return (path) => {
    for (let at = path.length; at > 0; at = path.lastIndexOf("/", at - 1)) {
      const candidate = path.slice(0, at);
      if (expressions.some((expression) => expression.test(candidate))) return true;
    }
    return false;
  };
}
