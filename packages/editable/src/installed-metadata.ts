import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** The `Name` and `Version` headers of a dist-info `METADATA` or egg-info `PKG-INFO` (RFC 822 style). */
export function parseMetadataHeaders(text: string): { name?: string; version?: string } {
  const headers: { name?: string; version?: string } = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break; // the body (long description) starts after the first blank line
    const match = /^(Name|Version):\s*(.*?)\s*$/i.exec(line);
    if (match?.[1] && match[2]) headers[match[1].toLowerCase() as "name" | "version"] = match[2];
  }
  return headers;
}

/** The paths (first column) of a dist-info `RECORD`, a CSV file whose fields may be double-quoted. */
export function parseRecordPaths(text: string): string[] {
  const paths: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === "") continue;
    const quoted = /^"((?:[^"]|"")*)"/.exec(line);
    paths.push(quoted?.[1] !== undefined ? quoted[1].replaceAll('""', '"') : (line.split(",")[0] ?? ""));
  }
  return paths;
}

/** The names listed in setuptools' `top_level.txt`, one per line. */
export function parseTopLevelTxt(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/**
 * The project directory of a PEP 610 `direct_url.json` marking an editable install
 * (`{"url": "file:///…", "dir_info": {"editable": true}}`), or `undefined` for any other install.
 */
export function editableProjectOf(directUrlJson: string): string | undefined {
  let parsed: { url?: unknown; dir_info?: { editable?: unknown } };
  try {
    parsed = JSON.parse(directUrlJson);
  } catch {
    return undefined;
  }
  if (parsed?.dir_info?.editable !== true || typeof parsed.url !== "string") return undefined;
  if (!parsed.url.startsWith("file:")) return undefined;
  return fileURLToPath(parsed.url);
}

/** A metadata file's text, or `undefined` when the file does not exist. */
export async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
