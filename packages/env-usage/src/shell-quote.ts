// Words made only of these characters mean the same to a POSIX shell quoted or not; leaving them bare keeps the
// emitted scripts readable (`./env.pex -m my.module`).
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for a POSIX shell (`sh`, `bash`): bare when safe, otherwise single-quoted. */
export const shellQuote = (word: string) =>
  SHELL_SAFE.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;

/** A command line for a POSIX shell, each word quoted as needed. */
export const shellJoin = (words: readonly string[]) => words.map(shellQuote).join(" ");
