/**
 * Text that comes from files or servers (RECORD lines, metadata, error bodies) reaches a terminal only through
 * these: a crafted value must not move the cursor, recolour the screen or forge a line of our output.
 */

// C0 and C1 control characters and DEL; tab is kept, newlines are handled by the caller's choice of function.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` with control characters (escape sequences included) shown as `\xNN`; newlines kept. */
export function sanitizeText(text: string): string {
  return text.replace(CONTROL, (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** `text` on one line: control characters as `\xNN` and every line break as `\n`. */
export function sanitizeLine(text: string): string {
  return sanitizeText(text.replace(/\r?\n/g, "\\n"));
}

// //user:password@host → the password never printed, even in a malformed URL (`http//u:pw@h`); a user name alone is
// kept (it is not a secret).
const CREDENTIALS_IN_URL = /(\/\/)([^\s/@:]*):[^\s/@]*@/g;

/** `text` with the password of every URL in it (`https://user:pw@host`) replaced by `***`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(
    CREDENTIALS_IN_URL,
    (_match, slashes: string, user: string) => `${slashes}${user}:***@`,
  );
}
