import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { type ArchiveMember, readZipMembers } from "@cluster-pack/archive";
import { sanitizeLine } from "@cluster-pack/errors";
import { parseEntryPoints } from "./entry-points.js";
import { PythonEnvError } from "./errors.js";
import { normalizeName } from "./normalize-name.js";
import { parseRecord } from "./record-file.js";
import { parseWheelFileName } from "./wheel-file-name.js";

/**
 * Where installed wheels go under a staging prefix, the scheme of a venv reduced to what a zipapp needs:
 * `site-packages/` (purelib and platlib both), `bin/` (scripts), `include/<name>/` (headers), the prefix (data).
 */
export function stagingSitePackages(prefix: string): string {
  return join(prefix, "site-packages");
}

export interface InstallWheelOptions {
  /** The wheel file. */
  wheel: string;
  /** The staging prefix (`stagingSitePackages(prefix)` is where packages land). */
  prefix: string;
  /** The target's `X.Y`: scripts start with `#!/usr/bin/env pythonX.Y`, the interpreter the nodes run. */
  pythonVersion: string;
}

export interface InstalledWheel {
  name: string;
  version: string;
  /** The `.dist-info` directory, relative to site-packages. */
  distInfo: string;
}

const urlsafeSha256 = (data: Buffer) => createHash("sha256").update(data).digest("base64url");

/** RECORD is CSV: a path holding a comma, a quote or a line break is quoted, quotes doubled. */
const csvField = (field: string) => (/[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field);

/** Refuses a member name that is absolute or climbs out of where it is installed. */
function checkMemberName(name: string, location: string): void {
  const parts = name.split("/");
  if (
    name.startsWith("/") ||
    name.includes("\\") ||
    name.includes("\0") ||
    /^[A-Za-z]:/.test(name) ||
    parts.includes("..")
  )
    throw new PythonEnvError(
      "INVALID_ARGUMENT",
      `refusing wheel entry ${JSON.stringify(sanitizeLine(name))}: its path leaves the installation directory`,
      { location },
    );
}

const pythonIdentifiers = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

/** A console script for the target: our own small launcher, importing the entry point's callable and running it. */
function consoleScript(value: string, shebang: string, location: string): string {
  const [module = "", attribute = ""] = value.split(":").map((part) => part.trim());
  // The launcher is Python source: only dotted identifiers may go into it.
  if (!pythonIdentifiers.test(module) || !pythonIdentifiers.test(attribute))
    throw new PythonEnvError(
      "INVALID_ARGUMENT",
      `entry point ${JSON.stringify(sanitizeLine(value))} is not module:function`,
      { location },
    );
  const [first] = attribute.split(".");
  return [
    shebang,
    "import sys",
    `from ${module} import ${first}`,
    'if __name__ == "__main__":',
    `    sys.exit(${attribute}())`,
    "",
  ].join("\n");
}

/** What a member of the wheel becomes: its path relative to site-packages (`../bin/tool` for a script). */
function destinationOf(
  name: string,
  dataDirectory: string,
  projectName: string,
): { path: string; script: boolean } {
  if (!name.startsWith(`${dataDirectory}/`)) return { path: name, script: false };
  const [kind, ...rest] = name.slice(dataDirectory.length + 1).split("/");
  const inside = rest.join("/");
  if (kind === "purelib" || kind === "platlib") return { path: inside, script: false };
  if (kind === "scripts") return { path: `../bin/${inside}`, script: true };
  if (kind === "headers") return { path: `../include/${projectName}/${inside}`, script: false };
  if (kind === "data") return { path: `../${inside}`, script: false };
  throw new PythonEnvError(
    "INVALID_ARGUMENT",
    `unknown wheel data directory ${JSON.stringify(sanitizeLine(`${dataDirectory}/${kind}`))}`,
  );
}

/** Members up to this size are read whole and written at once; larger ones stream (a GPU wheel's are gigabytes). */
const WHOLE_MEMBER_LIMIT = 1 << 20;

/** The metadata files installing needs before any other member: they are small, read whole. */
async function readWheelMetadata(wheel: string, location: string) {
  const names: string[] = [];
  const small = new Map<string, Buffer>();
  await readZipMembers(wheel, async (member) => {
    if (member.kind === "directory") return;
    names.push(member.name);
    if (/^[^/]+\.dist-info\/(WHEEL|RECORD|entry_points\.txt)$/.test(member.name))
      small.set(member.name, await contentOf(member));
  }).catch((error: unknown) => {
    throw new PythonEnvError("INVALID_ARGUMENT", `not a readable wheel: ${(error as Error).message}`, {
      location,
      cause: error,
    });
  });
  return { names, small };
}

async function contentOf(member: Pick<ArchiveMember, "content">): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of member.content()) pieces.push(piece);
  return Buffer.concat(pieces);
}

/**
 * Installs one wheel into a staging prefix the way PEP 427 says, without running any interpreter: every member's
 * hash checked against the wheel's RECORD as it is written (a mismatch or an unlisted file refuses the wheel),
 * entries that would land outside the prefix refused before anything is written, `.data/` directories mapped,
 * `#!python` scripts and console scripts given the target's shebang, `INSTALLER` set to `cluster-pack` and RECORD
 * rewritten for what was installed. Members stream from the wheel to their place (a GPU wheel is gigabytes), and
 * the output depends only on the wheel and the target version: the same lock installs byte-identical trees.
 */
export async function installWheel(options: InstallWheelOptions): Promise<InstalledWheel> {
  const location = options.wheel;
  const fileName = posix.basename(options.wheel);
  const { normalizedName } = parseWheelFileName(fileName);
  const { names, small } = await readWheelMetadata(options.wheel, location);
  for (const name of names) checkMemberName(name, location);
  const distInfo = names
    .map((name) => /^([^/]+\.dist-info)\/WHEEL$/.exec(name)?.[1])
    .find(
      (directory) =>
        directory && normalizeName(directory.slice(0, -10).split("-")[0] ?? "") === normalizedName,
    );
  if (!distInfo)
    throw new PythonEnvError("INVALID_ARGUMENT", "not a wheel: no .dist-info/WHEEL for its name", {
      location,
    });
  const [projectName = "", version = ""] = distInfo.slice(0, -".dist-info".length).split("-");
  const recordFile = small.get(`${distInfo}/RECORD`);
  if (!recordFile) throw new PythonEnvError("INVALID_ARGUMENT", "not a wheel: no RECORD", { location });
  const recorded = new Map(parseRecord(recordFile.toString("utf8")).map((entry) => [entry.path, entry]));

  const sitePackages = stagingSitePackages(options.prefix);
  const shebang = `#!/usr/bin/env python${options.pythonVersion}`;
  const dataDirectory = `${distInfo.slice(0, -".dist-info".length)}.data`;
  const skipped = new Set([
    `${distInfo}/RECORD`,
    `${distInfo}/RECORD.jws`,
    `${distInfo}/RECORD.p7s`,
    `${distInfo}/INSTALLER`,
  ]);
  // By path: a console script replaces a `.data/scripts/` file of the same name, in RECORD too.
  const rows = new Map<string, string>();
  // What this wheel created (files, and the first directory of each new branch): removed if it is refused.
  const created: string[] = [];
  const madeDirectories = new Set<string>();
  const makeParent = async (target: string) => {
    const parent = dirname(target);
    if (!madeDirectories.has(parent)) {
      const first = await mkdir(parent, { recursive: true });
      if (first) created.push(first);
      madeDirectories.add(parent);
    }
    created.push(target);
  };
  const place = async (path: string, executable: boolean, data: Buffer) => {
    const target = join(sitePackages, path);
    await makeParent(target);
    await writeFile(target, data);
    // Modes are set, not left to the umask: they go into the archive.
    await chmod(target, executable ? 0o755 : 0o644);
    rows.set(path, `${csvField(path)},sha256=${urlsafeSha256(data)},${data.length}`);
  };

  await readZipMembers(options.wheel, async (member) => {
    if (member.kind === "directory" || skipped.has(member.name)) return;
    const expected = recordedHash(member.name, recorded.get(member.name), location);
    const { path, script } = destinationOf(member.name, dataDirectory, projectName);
    if (script || member.size <= WHOLE_MEMBER_LIMIT) {
      // Read whole: checked before it is written, and a script's `#!python` line given the target's interpreter.
      const data = await contentOf(member);
      checkHash(
        member.name,
        expected,
        createHash(expected.algorithm).update(data).digest("base64url"),
        location,
      );
      const content =
        script && /^#!pythonw?(\r?\n|\s)/.test(data.subarray(0, 16).toString("latin1"))
          ? Buffer.concat([Buffer.from(`${shebang}\n`), data.subarray(data.indexOf(0x0a) + 1 || data.length)])
          : data;
      await place(path, script || (member.mode & 0o111) !== 0, content);
      return;
    }
    const target = join(sitePackages, path);
    await makeParent(target);
    const asRecorded = createHash(expected.algorithm);
    const installed = createHash("sha256");
    let size = 0;
    await pipeline(
      member.content(),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const piece of source) {
          asRecorded.update(piece);
          installed.update(piece);
          size += piece.length;
          yield piece;
        }
      },
      createWriteStream(target),
    );
    checkHash(member.name, expected, asRecorded.digest("base64url"), location);
    await chmod(target, (member.mode & 0o111) !== 0 ? 0o755 : 0o644);
    rows.set(path, `${csvField(path)},sha256=${installed.digest("base64url")},${size}`);
  }).catch(async (error: unknown) => {
    // Members are checked as they stream to their place: a refused wheel takes back what it wrote.
    for (const path of created.reverse()) await rm(path, { recursive: true, force: true });
    if (error instanceof PythonEnvError) throw error;
    throw new PythonEnvError("INVALID_ARGUMENT", `not a readable wheel: ${(error as Error).message}`, {
      location,
      cause: error,
    });
  });

  const entryPoints = small.get(`${distInfo}/entry_points.txt`);
  for (const entry of entryPoints ? parseEntryPoints(entryPoints.toString("utf8")) : []) {
    if (entry.group !== "console_scripts" && entry.group !== "gui_scripts") continue;
    if (!/^[\w.-]+$/.test(entry.name) || entry.name.startsWith("."))
      throw new PythonEnvError(
        "INVALID_ARGUMENT",
        `refusing console script ${JSON.stringify(sanitizeLine(entry.name))}: not a plain file name`,
        { location },
      );
    await place(`../bin/${entry.name}`, true, Buffer.from(consoleScript(entry.value, shebang, location)));
  }
  await place(`${distInfo}/INSTALLER`, false, Buffer.from("cluster-pack\n"));

  const record = join(sitePackages, distInfo, "RECORD");
  const lines = [...rows.values(), `${csvField(`${distInfo}/RECORD`)},,`].sort();
  await writeFile(record, `${lines.join("\n")}\n`);
  await chmod(record, 0o644);
  return { name: projectName, version, distInfo };
}

/** The hash RECORD gives a member; a member RECORD does not vouch for refuses the wheel. */
function recordedHash(
  member: string,
  entry: { hash?: string } | undefined,
  location: string,
): { algorithm: "sha256" | "sha384" | "sha512"; value: string } {
  const [algorithm, value = ""] = entry?.hash?.split("=", 2) ?? [];
  if (algorithm === "sha256" || algorithm === "sha384" || algorithm === "sha512")
    return { algorithm, value: value.replace(/=+$/, "") };
  throw new PythonEnvError(
    "INVALID_ARGUMENT",
    `wheel entry ${JSON.stringify(sanitizeLine(member))} is not in its RECORD with a sha256: the wheel is damaged or tampered with`,
    { location },
  );
}

function checkHash(member: string, expected: { value: string }, actual: string, location: string): void {
  if (actual !== expected.value)
    throw new PythonEnvError(
      "INVALID_ARGUMENT",
      `wheel entry ${JSON.stringify(sanitizeLine(member))} does not match the hash its RECORD gives: the wheel is damaged or tampered with`,
      { location },
    );
}
