/**
 * Prefix replacement as conda installs packages (conda's `portability.py`): text files get every occurrence
 * replaced; binary files keep their length, each NUL-terminated string holding the prefix being rewritten in its
 * own slot. The same rules run on the node in `conda-unpack` (relocation/conda-unpack.py); keep the two in step.
 */

/** Every occurrence of `from` replaced by `to` (conda's text mode). */
export function replaceInText(data: Buffer, from: string, to: string): Buffer {
  const needle = Buffer.from(from, "utf8");
  const parts: Buffer[] = [];
  let position = 0;
  for (let found = data.indexOf(needle); found !== -1; found = data.indexOf(needle, position)) {
    parts.push(data.subarray(position, found), Buffer.from(to, "utf8"));
    position = found + needle.length;
  }
  if (parts.length === 0) return data;
  parts.push(data.subarray(position));
  return Buffer.concat(parts);
}

/** Why a binary replacement cannot be done: the string at `offset` needs `missing` more bytes than its slot has. */
export interface NoRoom {
  offset: number;
  missing: number;
}

/**
 * conda's binary mode: inside each NUL-terminated string that holds `from`, every occurrence becomes `to`. A
 * shorter string is followed by as many NULs as it lost, so offsets never move. A longer one takes the NULs that
 * follow its terminator, which exist where an earlier, shorter replacement left them (conda pads each installed
 * prefix up to its long build placeholder); without them there is no room and nothing is changed.
 */
export function replaceInBinary(data: Buffer, from: string, to: string): Buffer | NoRoom {
  const needle = Buffer.from(from, "utf8");
  const output = Buffer.from(data);
  let position = 0;
  for (let found = data.indexOf(needle); found !== -1; found = data.indexOf(needle, position)) {
    const terminator = data.indexOf(0, found);
    // conda only rewrites terminated strings: bytes running to the end of the file are not a C string.
    if (terminator === -1) break;
    const original = data.subarray(found, terminator);
    const rewritten = replaceInText(original, from, to);
    const growth = rewritten.length - original.length;
    const slotEnd = terminator + 1 + Math.max(growth, 0);
    if (growth > 0) {
      const padding = data.subarray(terminator + 1, slotEnd);
      if (padding.length < growth || padding.some((byte) => byte !== 0))
        return { offset: found, missing: growth };
    }
    output.fill(0, found, slotEnd);
    rewritten.copy(output, found);
    position = slotEnd;
  }
  return output;
}

export const isNoRoom = (result: Buffer | NoRoom): result is NoRoom => !Buffer.isBuffer(result);

/** Whether bytes read as a UTF-8 text file (conda-pack's test for files whose mode conda did not record). */
export function looksLikeText(data: Buffer): boolean {
  if (data.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}
