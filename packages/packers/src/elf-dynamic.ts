/**
 * The few facts of an ELF file's dynamic section that shipping an interpreter needs: which shared libraries it
 * loads (DT_NEEDED) and where it looks for them (DT_RUNPATH, or the older DT_RPATH). Reading them is about sixty
 * lines of the System V ABI (program headers → PT_DYNAMIC → string table); the npm ELF parsers are unmaintained,
 * and patchelf would be one more tool every user must install.
 */

/** A search-path string inside the file: where it starts and how many bytes it has (without its NUL). */
export interface ElfSearchPath {
  tag: "RUNPATH" | "RPATH";
  value: string;
  offset: number;
  length: number;
}

export interface ElfDynamic {
  needed: string[];
  searchPaths: ElfSearchPath[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

export const isElf = (bytes: Uint8Array) =>
  bytes.length >= 52 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;

/**
 * The dynamic section of an ELF executable or shared library; undefined for anything else (a script, a Mach-O
 * binary) and for a statically linked file, which has no dynamic section.
 */
export function readElfDynamic(bytes: Buffer): ElfDynamic | undefined {
  if (!isElf(bytes)) return undefined;
  const is64 = bytes[4] === 2;
  const littleEndian = bytes[5] === 1;
  const u16 = (at: number) => (littleEndian ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const word = (at: number) =>
    is64 ? Number(littleEndian ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at)) : u32(at);

  const programHeaders = word(is64 ? 0x20 : 0x1c);
  const headerSize = u16(is64 ? 0x36 : 0x2a);
  const headerCount = u16(is64 ? 0x38 : 0x2c);
  const segments: { type: number; offset: number; address: number; size: number }[] = [];
  for (let index = 0; index < headerCount; index++) {
    const at = programHeaders + index * headerSize;
    if (at + headerSize > bytes.length) return undefined;
    segments.push(
      is64
        ? { type: u32(at), offset: word(at + 8), address: word(at + 16), size: word(at + 32) }
        : { type: u32(at), offset: u32(at + 4), address: u32(at + 8), size: u32(at + 16) },
    );
  }
  const dynamic = segments.find((segment) => segment.type === PT_DYNAMIC);
  if (!dynamic) return undefined;

  const entrySize = is64 ? 16 : 8;
  const entries: { tag: number; value: number }[] = [];
  for (let at = dynamic.offset; at + entrySize <= dynamic.offset + dynamic.size; at += entrySize) {
    const tag = word(at);
    if (tag === DT_NULL) break;
    entries.push({ tag, value: word(at + entrySize / 2) });
  }
  // DT_STRTAB holds a virtual address: the PT_LOAD segment containing it maps it back to a file offset.
  const stringTableAddress = entries.find((entry) => entry.tag === DT_STRTAB)?.value;
  const load = segments.find(
    (segment) =>
      segment.type === PT_LOAD &&
      stringTableAddress !== undefined &&
      stringTableAddress >= segment.address &&
      stringTableAddress < segment.address + segment.size,
  );
  if (stringTableAddress === undefined || !load) return undefined;
  const stringTable = load.offset + (stringTableAddress - load.address);
  const stringAt = (index: number) => {
    const start = stringTable + index;
    const end = bytes.indexOf(0, start);
    return { start, end: end === -1 ? bytes.length : end };
  };

  const needed: string[] = [];
  const searchPaths: ElfSearchPath[] = [];
  for (const entry of entries) {
    if (entry.tag !== DT_NEEDED && entry.tag !== DT_RPATH && entry.tag !== DT_RUNPATH) continue;
    const { start, end } = stringAt(entry.value);
    const value = bytes.toString("utf8", start, end);
    if (entry.tag === DT_NEEDED) needed.push(value);
    else
      searchPaths.push({
        tag: entry.tag === DT_RUNPATH ? "RUNPATH" : "RPATH",
        value,
        offset: start,
        length: end - start,
      });
  }
  return { needed, searchPaths };
}

/**
 * A copy of `bytes` whose RUNPATH/RPATH strings say `searchPath` (`$ORIGIN/../lib`), written in place over the old
 * strings and padded with NULs, as conda relocates binaries; undefined when the file has no search path to
 * overwrite or one shorter than the new value (the string table cannot grow without relinking).
 */
export function withSearchPath(bytes: Buffer, searchPath: string): Buffer | undefined {
  const dynamic = readElfDynamic(bytes);
  const replacement = Buffer.from(searchPath, "utf8");
  if (!dynamic || dynamic.searchPaths.length === 0) return undefined;
  if (dynamic.searchPaths.some((path) => path.length < replacement.length)) return undefined;
  const patched = Buffer.from(bytes);
  for (const path of dynamic.searchPaths) {
    patched.fill(0, path.offset, path.offset + path.length);
    replacement.copy(patched, path.offset);
  }
  return patched;
}
