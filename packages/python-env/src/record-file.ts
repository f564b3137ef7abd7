/** One line of a wheel's `RECORD`: the installed path (relative to site-packages), its hash and size. */
export interface RecordEntry {
  path: string;
  /** `sha256=<urlsafe base64>`; absent for RECORD itself and for files made at install time (`.pyc`). */
  hash?: string;
  size?: number;
}

/**
 * The rows of a CSV text as Python's `csv` module writes RECORD (RFC 4180): a quoted field may hold commas, doubled
 * quotes and line breaks (a file name with a newline is written that way), rows end with `\n` or `\r\n`.
 */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char !== '"') field += char;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\n" || (char === "\r" && text[i + 1] === "\n")) {
      if (char === "\r") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += char;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** Parses `RECORD` (PEP 376 / the wheel spec): CSV rows of path, hash, size. */
export function parseRecord(text: string): RecordEntry[] {
  const entries: RecordEntry[] = [];
  for (const [path, hash, size] of csvRows(text)) {
    if (!path) continue;
    entries.push({ path, ...(hash && { hash }), ...(size && { size: Number(size) }) });
  }
  return entries;
}
