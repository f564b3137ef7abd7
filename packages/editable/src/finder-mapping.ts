/**
 * The two tables of a setuptools PEP 660 finder module (`__editable___<name>_<ver>_finder.py`), read from its
 * text without running it: `MAPPING` (import name → path, without suffix for modules) and `NAMESPACES`
 * (namespace package → portions). Newer setuptools annotate them (`MAPPING: dict[str, str] = {…}`).
 */
export interface FinderMapping {
  mapping: Map<string, string>;
  namespaces: Map<string, string[]>;
}

/** Thrown for text that is not the dict literal setuptools writes; the caller words the user's message. */
class LiteralSyntaxError extends Error {}

/** Parses the finder module's text; `undefined` when it has no `MAPPING` assignment at all. */
export function parseFinderMapping(source: string): FinderMapping | undefined {
  const mapping = assignedLiteral(source, "MAPPING");
  if (mapping === undefined) return undefined;
  const namespaces = assignedLiteral(source, "NAMESPACES") ?? new Map<string, PythonLiteral>();
  return {
    mapping: stringDict(mapping, (value) => (typeof value === "string" ? value : undefined)),
    namespaces: stringDict(namespaces, (value) =>
      Array.isArray(value) && value.every((item) => typeof item === "string") ? value : undefined,
    ),
  };
}

type PythonLiteral = string | PythonLiteral[] | Map<string, PythonLiteral>;

function assignedLiteral(source: string, variable: string): PythonLiteral | undefined {
  const assignment = new RegExp(`^${variable}\\s*(?::[^=\\n]*)?=\\s*`, "m").exec(source);
  if (!assignment) return undefined;
  return new LiteralParser(source, assignment.index + assignment[0].length).value();
}

function stringDict<T>(
  literal: PythonLiteral,
  accept: (value: PythonLiteral) => T | undefined,
): Map<string, T> {
  if (!(literal instanceof Map)) throw new LiteralSyntaxError("expected a dict");
  const result = new Map<string, T>();
  for (const [key, value] of literal) {
    const accepted = accept(value);
    if (accepted === undefined) throw new LiteralSyntaxError(`unexpected value for ${JSON.stringify(key)}`);
    result.set(key, accepted);
  }
  return result;
}

const simpleEscapes: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  n: "\n",
  r: "\r",
  t: "\t",
};

const hexEscapeLengths: Record<string, number> = { x: 2, u: 4, U: 8 };

/** The subset of Python literals `repr()` produces for dicts of str and lists of str. */
class LiteralParser {
  constructor(
    private readonly text: string,
    private position: number,
  ) {}

  value(): PythonLiteral {
    this.skipSpace();
    const char = this.text[this.position];
    if (char === "{") return this.dict();
    if (char === "[") return this.list();
    if (char === "'" || char === '"') return this.string();
    throw new LiteralSyntaxError(`unexpected ${char === undefined ? "end of file" : JSON.stringify(char)}`);
  }

  private dict(): Map<string, PythonLiteral> {
    const result = new Map<string, PythonLiteral>();
    this.position++;
    while (!this.closes("}")) {
      const key = this.value();
      if (typeof key !== "string") throw new LiteralSyntaxError("dict keys must be strings");
      this.expect(":");
      result.set(key, this.value());
      this.separator("}");
    }
    return result;
  }

  private list(): PythonLiteral[] {
    const result: PythonLiteral[] = [];
    this.position++;
    while (!this.closes("]")) {
      result.push(this.value());
      this.separator("]");
    }
    return result;
  }

  private string(): string {
    const quote = this.text[this.position++];
    let result = "";
    for (;;) {
      const char = this.text[this.position++];
      if (char === undefined || char === "\n") throw new LiteralSyntaxError("unterminated string");
      if (char === quote) return result;
      if (char !== "\\") {
        result += char;
        continue;
      }
      const escaped = this.text[this.position++] ?? "";
      const hexLength = hexEscapeLengths[escaped];
      if (hexLength !== undefined) {
        const hex = this.text.slice(this.position, this.position + hexLength);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLength)
          throw new LiteralSyntaxError(`bad \\${escaped} escape`);
        result += String.fromCodePoint(Number.parseInt(hex, 16));
        this.position += hexLength;
      } else if (escaped in simpleEscapes) {
        result += simpleEscapes[escaped];
      } else {
        // Python keeps unknown escapes verbatim (`'\d'` is backslash + d).
        result += `\\${escaped}`;
      }
    }
  }

  private closes(bracket: string): boolean {
    this.skipSpace();
    if (this.text[this.position] !== bracket) return false;
    this.position++;
    return true;
  }

  private separator(bracket: string) {
    this.skipSpace();
    const char = this.text[this.position];
    if (char === ",") this.position++;
    else if (char !== bracket) throw new LiteralSyntaxError(`expected "," or "${bracket}"`);
  }

  private expect(char: string) {
    this.skipSpace();
    if (this.text[this.position] !== char) throw new LiteralSyntaxError(`expected "${char}"`);
    this.position++;
  }

  private skipSpace() {
    while (/\s/.test(this.text[this.position] ?? "")) this.position++;
  }
}
