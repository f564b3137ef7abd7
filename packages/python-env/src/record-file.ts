/** One line of a wheel's `RECORD`: the installed path (relative to site-packages), its hash and size. */
export interface RecordEntry {
  path: string;
  /** `sha256=<urlsafe base64>`; absent for RECORD itself and for files made at install time (`.pyc`). */
  hash?: string;
  size?: number;
}

/** Splits one CSV line (RFC 4180 quoting, as Python's `csv` module writes RECORD). */
function csvFields(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      fields.push(field);
      field = "";
    } else field += char;
  }
  fields.push(field);
  return fields;
}

/** Parses `RECORD` (PEP 376 / the wheel spec): CSV rows of path, hash, size. */
export function parseRecord(text: string): RecordEntry[] {
  const entries: RecordEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    const [path, hash, size] = csvFields(line);
    if (!path) continue;
    entries.push({ path, ...(hash && { hash }), ...(size && { size: Number(size) }) });
  }
  return entries;
}
