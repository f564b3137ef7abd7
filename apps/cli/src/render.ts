// Everything the command prints: results (human or JSON) on stdout, progress and messages on stderr.

import { basename } from "node:path";
import cliProgress from "cli-progress";
import {
  formatBytes,
  formatCount,
  type ProgressEvent,
  type ProgressListener,
  redactUrlCredentials,
  sanitizeLine,
  sanitizeText,
} from "cluster-pack";
import type { GlobalFlags } from "./options.js";

const colorEnabled = (stream: NodeJS.WriteStream) =>
  Boolean(stream.isTTY) &&
  !("NO_COLOR" in process.env && process.env.NO_COLOR !== "") &&
  process.env.TERM !== "dumb";

const paint = (stream: NodeJS.WriteStream, code: string) => (text: string) =>
  colorEnabled(stream) ? `\u001b[${code}m${text}\u001b[0m` : text;

const out = process.stdout;
const err = process.stderr;
export const style = {
  bold: paint(out, "1"),
  dim: paint(out, "2"),
  green: paint(out, "32"),
  cyan: paint(out, "36"),
  errorRed: paint(err, "31;1"),
  hintDim: paint(err, "2"),
  warnYellow: paint(err, "33"),
};

// One way to print a size, the size report's, so a page and the terminal agree.
export { formatBytes, formatCount };

/** Text from files, servers or the user's environment as it may reach a terminal: no escape sequence, no password. */
export const printable = (value: string) => redactUrlCredentials(sanitizeText(value));

/** `printable`, on one line. */
export const printableLine = (value: string) => redactUrlCredentials(sanitizeLine(value));

/**
 * A value read from a store or an environment's files (metadata anyone may have written) as printable text on one
 * line: a string as is, anything else as JSON, control characters (terminal escapes, newlines) shown as `\xNN`
 * rather than obeyed; cut to `maxLength` characters when given (a table cell of crafted metadata can be megabytes).
 */
export function text(value: unknown, maxLength = Number.POSITIVE_INFINITY): string {
  if (value === undefined || value === null) return "";
  const raw = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  const line = printableLine(raw);
  return line.length > maxLength ? `${line.slice(0, maxLength - 1)}…` : line;
}

// JSON.stringify escapes C0 controls but not DEL and the C1 controls (U+009B is a one-character CSI on some
// terminals); inside a JSON string their `\u` escapes mean the same characters.
const UNESCAPED_BY_JSON = /[\u007f-\u009f]/g;

/** `value` as indented JSON that is safe to print: every control character escaped, no password of a URL. */
export const toPrintableJson = (value: unknown) =>
  redactUrlCredentials(
    JSON.stringify(value, null, 2).replace(
      UNESCAPED_BY_JSON,
      (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
    ),
  );

/**
 * A launch configuration on stdout. URLs in it lose their passwords unless the user asked for secrets
 * (`--include-secrets`): a printed config ends up in shell histories, CI logs and tickets.
 */
export function emitConfig(config: string, options: { includeSecrets?: boolean | undefined } = {}) {
  out.write(options.includeSecrets ? config : redactUrlCredentials(config));
}

/** Rows of cells, each column padded to its widest cell. */
export function table(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const row of all)
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  const format = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const lines = rows.map(format);
  return (header ? [style.bold(format(header)), ...lines] : lines).join("\n");
}

export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** The result, as one JSON object (the façade's return value) with `--json`, else via `human`. */
  result(value: unknown, human: () => string, quietLine?: string): void;
  /** A message on stderr, unless `--quiet`. */
  note(text: string): void;
  /** A message on stderr with `--verbose` only. */
  verbose(text: string): void;
  warn(text: string): void;
  /** A progress listener: bars with bytes/s on a TTY, nothing in a pipe (phase lines with `--verbose`). */
  progress(): ProgressListener & { stop(): void };
}

const phaseLabel: Record<ProgressEvent["phase"], string> = {
  inspect: "inspecting the environment",
  pack: "packing",
  upload: "uploading",
};

export function createOutput(flags: GlobalFlags): Output {
  const json = Boolean(flags.json);
  const quiet = Boolean(flags.quiet);
  const verbose = Boolean(flags.verbose) && !quiet;
  return {
    json,
    quiet,
    result(value, human, quietLine) {
      if (json) out.write(`${toPrintableJson(value)}\n`);
      else if (quiet) {
        if (quietLine) out.write(`${printable(quietLine)}\n`);
      } else out.write(`${redactUrlCredentials(human())}\n`);
    },
    note(text) {
      if (!quiet) err.write(`${redactUrlCredentials(text)}\n`);
    },
    verbose(text) {
      if (verbose) err.write(`${style.hintDim(printableLine(text))}\n`);
    },
    warn(text) {
      if (!quiet) err.write(`${style.warnYellow("warning:")} ${printableLine(text)}\n`);
    },
    progress() {
      return progressRenderer(quiet, verbose);
    },
  };
}

function progressRenderer(quiet: boolean, verbose: boolean): ProgressListener & { stop(): void } {
  const tty = Boolean(err.isTTY) && !quiet;
  let bar: cliProgress.SingleBar | undefined;
  let key = "";
  let startedAt = 0;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  const listener = (event: ProgressEvent) => {
    const eventKey = `${event.phase}:${event.target ?? ""}`;
    // The pack target is a temporary file: its name says enough.
    const target = event.target && event.phase === "pack" ? basename(event.target) : event.target;
    const label = `${phaseLabel[event.phase]}${target ? ` ${printableLine(target)}` : ""}`;
    if (eventKey !== key) {
      stop();
      key = eventKey;
      startedAt = Date.now();
      if (!tty) {
        if (verbose) err.write(`${label}\n`);
        return;
      }
    }
    if (!tty) return;
    const total = event.totalBytes ?? 0;
    const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
    const payload = {
      label,
      done: formatBytes(event.transferredBytes),
      size: total ? ` / ${formatBytes(total)}` : "",
      speed: `${formatBytes(Math.round(event.transferredBytes / seconds))}/s`,
    };
    if (!bar) {
      bar = new cliProgress.SingleBar(
        {
          format: total
            ? "{label} [{bar}] {percentage}% {done}{size} {speed}"
            : event.phase === "inspect"
              ? "{label}…"
              : "{label} {done} {speed}",
          stream: err,
          hideCursor: true,
          clearOnComplete: true,
          barsize: 24,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total || 1, 0, payload);
    }
    if (total) bar.setTotal(total);
    bar.update(total ? Math.min(event.transferredBytes, total) : 0, payload);
  };
  return Object.assign(listener, { stop });
}

/** One line on stderr: `error: <message>`, then a hint or the pointer to `--debug`; the trace with `--debug`. */
export function renderError(message: string, hint: string | undefined, error: unknown, debug: boolean) {
  err.write(`${style.errorRed("error:")} ${printableLine(message)}\n`);
  if (debug) {
    let current: unknown = error;
    let prefix = "";
    while (current) {
      err.write(
        `${prefix}${printable(current instanceof Error ? (current.stack ?? current.message) : String(current))}\n`,
      );
      current = current instanceof Error ? current.cause : undefined;
      prefix = "caused by: ";
    }
  }
  if (hint) err.write(`${style.hintDim(`hint: ${printableLine(hint)}`)}\n`);
  else if (!debug) err.write(`${style.hintDim("(run with --debug for details)")}\n`);
}
