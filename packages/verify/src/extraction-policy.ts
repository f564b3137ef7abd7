import { type RiskyEntry, riskyTarEntries, riskyZipEntries } from "@cluster-pack/archive";
import { sanitizeLine } from "@cluster-pack/errors";
import { VerifyError } from "./errors.js";

/** A path's components without the empty and `.` ones: `./a//b/` and `a/b` name one entry. */
const componentsOf = (name: string) => name.split("/").filter((part) => part !== "" && part !== ".");

export interface EntryKinds {
  name: string;
  kind: string;
  /** A hard link's target, a path from the archive's root. */
  linkname?: string;
}

/**
 * Refuses, before anything is written, an archive whose unpacking would write outside the work directory: the
 * archive package's rules, except that a symlink may point outside. A venv archive's `bin/python` links to its base
 * interpreter by absolute path (the venv contract), and creating a link writes nothing through it; what is refused
 * is any entry beneath a link, which would.
 */
export function refuseRisky(archive: string, entries: readonly EntryKinds[], risky: readonly RiskyEntry[]) {
  const links = new Set(
    entries.filter((entry) => entry.kind === "symlink").map((entry) => componentsOf(entry.name).join("/")),
  );
  const kinds = new Map(entries.map((entry) => [entry.name, entry.kind]));
  const refuse = (name: string, reason: string) =>
    new VerifyError(
      "UNSAFE_ARCHIVE",
      `entry "${sanitizeLine(name)}" would be written outside the directory it is unpacked into (${reason}): the nodes would refuse or misplace it`,
      { location: sanitizeLine(archive) },
    );
  for (const { name, reason } of risky) {
    const parts = componentsOf(name);
    const beneathLink = parts.some((_, end) => end > 0 && links.has(parts.slice(0, end).join("/")));
    if (reason === "symlink" && kinds.get(name) === "symlink" && !beneathLink) continue;
    throw refuse(name, reason);
  }
  // A hard link made through one of the archive's symlinks would share a file outside (conda-unpack then rewrites
  // files in place): its target must be reached without crossing a link.
  for (const entry of entries) {
    if (entry.kind !== "hardlink" || entry.linkname === undefined) continue;
    const parts = componentsOf(entry.linkname);
    if (parts.some((_, end) => links.has(parts.slice(0, end + 1).join("/"))))
      throw refuse(entry.name, "symlink");
  }
}

export const riskyEntriesOf = (archive: string, format: "zip" | "tar") =>
  format === "zip" ? riskyZipEntries(archive) : riskyTarEntries(archive);
