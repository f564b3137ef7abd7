import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Runs a command under GNU time, so every tool (ours in a fresh `node`, Python, zip, tar) is measured the same way:
 * wall time from here, user+sys and peak RSS from the kernel's rusage of the child and everything it waited for.
 */
export async function timed(command, args, { env, cwd, input } = {}) {
  const scratch = await mkdtemp(join(tmpdir(), "cp-bench-time-"));
  const timeFile = join(scratch, "time");
  const started = process.hrtime.bigint();
  const { code, stdout, stderr } = await run(
    "/usr/bin/time",
    ["-f", "%e %U %S %M", "-o", timeFile, command, ...args],
    { env, cwd, input },
  );
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  const [, userS, sysS, maxRssKb] = (await readFile(timeFile, "utf8"))
    .trim()
    .split(/\s+/)
    .slice(-4)
    .map(Number);
  await rm(scratch, { recursive: true, force: true });
  if (code !== 0)
    throw new Error(`${command} ${args.join(" ").slice(0, 200)} exited ${code}: ${stderr.slice(-2000)}`);
  return { wallS, userS, sysS, cpuS: userS + sysS, maxRssMB: maxRssKb / 1024, stdout, stderr };
}

/** Spawns and collects output; never throws on a non-zero exit (the caller decides). */
export function run(command, args, { env, cwd, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: env ?? process.env,
      cwd,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
  });
}

export async function runOrThrow(command, args, options) {
  const result = await run(command, args, options);
  if (result.code !== 0)
    throw new Error(
      `${command} ${args.join(" ").slice(0, 200)} exited ${result.code}: ${result.stderr.slice(-2000)}`,
    );
  return result;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Wall time of `repeat` runs, median: for the sub-second "second run" measurements. */
export async function medianWall(command, args, options, repeat = 5) {
  const walls = [];
  for (let i = 0; i < repeat; i++) walls.push((await timed(command, args, options)).wallS);
  return median(walls);
}
