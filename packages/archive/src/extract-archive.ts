import { createWriteStream } from "node:fs";
import { chmod, link, mkdir, open, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { explainRisk, type RiskyEntry } from "./entry-safety.js";
import { ArchiveError, toArchiveError } from "./errors.js";
import { listTar, readTarMembers, riskyOfTarListing } from "./tar-reader.js";
import { listZip, type MemberVisitor, readZipMembers, riskyZipEntries } from "./zip-reader.js";

/** `zip` (zipapps, `.pex.zip`, zipped environments) or `tar` (plain or gzip-compressed). */
export type ArchiveKind = "zip" | "tar";

/** What an archive is, from its first bytes: gzip's magic or ustar's at offset 257 mean a tar, anything else a zip. */
export async function archiveKindOf(path: string): Promise<ArchiveKind> {
  try {
    const handle = await open(path, "r");
    try {
      const head = Buffer.alloc(263);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      const gzipped = bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      return gzipped || head.toString("latin1", 257, 262) === "ustar" ? "tar" : "zip";
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw toArchiveError(error, { archive: path });
  }
}

/** Every member of a zip or a tar(.gz), told apart by `archiveKindOf`; see `readZipMembers`. */
export async function readArchiveMembers(path: string, visit: MemberVisitor): Promise<void> {
  const kind = await archiveKindOf(path);
  await (kind === "zip" ? readZipMembers(path, visit) : readTarMembers(path, visit));
}

export interface ExtractOptions {
  /**
   * A symlink whose target lies outside the directory: `refuse` (default), or `keep` it as a link, as a venv
   * archive's `bin/python` points at its base interpreter. Creating a link writes nothing through it; an entry
   * beneath a link is refused either way, because writing it would.
   */
  linksLeaving?: "refuse" | "keep";
  /**
   * The most bytes of file content written in all: past it, extraction stops (UNSAFE) rather than fill the disk
   * with a small archive that inflates without end. Default: no bound.
   */
  maxBytes?: number;
}

const components = (name: string) => name.split("/").filter((part) => part !== "" && part !== ".");

/** The risky entries extraction must refuse, given what `linksLeaving` lets through. */
function refused(risky: readonly RiskyEntry[], links: ReadonlySet<string>, options: ExtractOptions) {
  return risky.filter(({ name, reason }) => {
    if (options.linksLeaving !== "keep" || reason !== "symlink") return true;
    const parts = components(name);
    const isLink = links.has(parts.join("/"));
    const beneathLink = parts.some((_, end) => end > 0 && links.has(parts.slice(0, end).join("/")));
    return !isLink || beneathLink;
  });
}

/**
 * Unpacks a zip or tar(.gz) into the directory `into`, refusing first, before anything is written, every entry
 * that would land or point outside it (`riskyZipEntries`/`riskyTarEntries`). Files are created exclusively, so
 * nothing is written over another entry or through a link; contents are checked as they are read (a zip's CRC-32,
 * every declared size); permission bits are kept (scripts and interpreters stay executable).
 */
export async function extractArchive(
  path: string,
  into: string,
  options: ExtractOptions = {},
): Promise<void> {
  const kind = await archiveKindOf(path);
  let risky: RiskyEntry[];
  let entries: readonly { name: string; kind: string; size: number }[];
  if (kind === "zip") {
    entries = (await listZip(path)).entries;
    risky = await riskyZipEntries(path);
  } else {
    const listing = await listTar(path);
    entries = listing;
    risky = riskyOfTarListing(listing);
  }
  const links = new Set(entries.filter((e) => e.kind === "symlink").map((e) => components(e.name).join("/")));
  const [first] = refused(risky, links, options);
  if (first)
    throw new ArchiveError("UNSAFE", explainRisk(first.reason), { archive: path, entry: first.name });
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  // What the entries declare is refused before anything is written; what they really inflate to, as it comes.
  const declared = entries.reduce((sum, entry) => sum + (entry.kind === "file" ? entry.size : 0), 0);
  if (declared > maxBytes)
    throw new ArchiveError(
      "UNSAFE",
      `declares ${declared} bytes of files, more than the ${maxBytes} allowed`,
      {
        archive: path,
      },
    );
  await mkdir(into, { recursive: true });
  let written = 0;
  const bounded = async function* (content: AsyncIterable<Buffer>, entry: string) {
    for await (const piece of content) {
      written += piece.length;
      if (written > maxBytes)
        throw new ArchiveError("UNSAFE", `extracts to more than ${maxBytes} bytes, the most allowed`, {
          archive: path,
          entry,
        });
      yield piece;
    }
  };
  await readArchiveMembers(path, async (member) => {
    const parts = components(member.name);
    if (parts.length === 0) return;
    const target = join(into, ...parts);
    try {
      if (member.kind === "directory") {
        await mkdir(target, { recursive: true });
        return;
      }
      await mkdir(dirname(target), { recursive: true });
      if (member.kind === "symlink") await symlink(member.linkTarget ?? "", target);
      else if (member.kind === "hardlink")
        await link(join(into, ...components(member.linkTarget ?? "")), target);
      else if (member.kind === "file") {
        await pipeline(
          bounded(member.content(), member.name),
          createWriteStream(target, { flags: "wx", mode: 0o600 }),
        );
        await chmod(target, member.mode & 0o777 || 0o644);
      }
    } catch (error) {
      if (error instanceof ArchiveError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST")
        throw new ArchiveError("CORRUPT", "the entry appears twice", { archive: path, entry: member.name });
      throw toArchiveError(error, { archive: path, entry: member.name });
    }
  });
}
