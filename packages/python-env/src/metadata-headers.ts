/**
 * The headers of a core-metadata file (`METADATA`, `PKG-INFO`) or of `WHEEL`: RFC 822 style, folded lines
 * continued by leading whitespace, repeated keys kept in order, the body (long description) ignored. Keys are
 * lowercased because core metadata field names are case-insensitive.
 */
export function parseMetadataHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    if ((line.startsWith(" ") || line.startsWith("\t")) && last) {
      last[last.length - 1] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(key) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(key, values);
    last = values;
  }
  return headers;
}
