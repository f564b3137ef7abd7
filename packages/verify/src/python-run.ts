import { spawn } from "node:child_process";
import { firstLine, sanitizeLine } from "@cluster-pack/errors";

export interface PythonRun {
  ok: boolean;
  /** Why not, in one sanitized line. */
  error?: string;
  /** Libraries the dynamic loader named as missing in the output (`libfoo.so.1: cannot open shared object file`). */
  missingLibraries: string[];
}

/** Of what a failing process printed, only the end matters (the exception's last line). */
const KEPT_OUTPUT = 64 * 1024;
/** Longest error line kept in a report. */
const ERROR_LINE_LIMIT = 400;

const lastLine = (text: string) =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .at(-1) ?? "";

/**
 * Runs a command to completion, killing it (and a hung import with it) after `timeoutMs`. A failure is a result,
 * not an error: its last line of output (a traceback's exception line), the signal that killed it, or its status.
 */
export function runPython(
  command: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<PythonRun> {
  const [program, ...args] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    options.signal?.throwIfAborted();
    const child = spawn(program, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let output = "";
    let timedOut = false;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      output = (output + chunk).slice(-KEPT_OUTPUT);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    const abort = () => child.kill("SIGKILL");
    options.signal?.addEventListener("abort", abort, { once: true });
    const settle = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", abort);
    };
    child.on("error", (error) => {
      settle();
      reject(error);
    });
    child.on("close", (status, signalName) => {
      settle();
      if (options.signal?.aborted) {
        reject(options.signal.reason);
        return;
      }
      const missingLibraries = [
        ...new Set(
          [...output.matchAll(/([^\s:'"]+\.so[\w.]*): cannot open shared object file/g)].map(
            (m) => m[1] ?? "",
          ),
        ),
      ].map(sanitizeLine);
      if (status === 0 && !timedOut) {
        resolve({ ok: true, missingLibraries });
        return;
      }
      const last = lastLine(output);
      const error = timedOut
        ? `timed out after ${Math.round(options.timeoutMs / 1000)} s`
        : signalName
          ? `crashed (killed by ${signalName})`
          : last || `exited with status ${status}`;
      resolve({ ok: false, error: sanitizeLine(firstLine(error, ERROR_LINE_LIMIT)), missingLibraries });
    });
  });
}
