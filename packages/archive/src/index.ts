export type {
  ArchiveEntry,
  BufferEntry,
  DirectoryEntry,
  FileEntry,
  StreamEntry,
  SymlinkEntry,
} from "./archive-entry.js";
export type { ArchiveDestination } from "./byte-sink.js";
export type { CollectTreeOptions } from "./collect-tree.js";
export { collectTree } from "./collect-tree.js";
export { crc32 } from "./crc32.js";
export type { EntryRisk, RiskyEntry } from "./entry-safety.js";
export type { ArchiveErrorCode, ArchiveErrorOptions } from "./errors.js";
export { ArchiveError, isArchiveError } from "./errors.js";
export type { ArchiveKind, ExtractOptions } from "./extract-archive.js";
export { archiveKindOf, extractArchive, readArchiveMembers } from "./extract-archive.js";
export type { TarEntryInfo } from "./tar-reader.js";
export { listTar, readTarMembers, riskyTarEntries } from "./tar-reader.js";
export type { TarOptions, TarSummary } from "./tar-writer.js";
export { writeTar } from "./tar-writer.js";
export { DEFAULT_EPOCH_SECONDS, dosDateTime, resolveEpochSeconds } from "./timestamp.js";
export type { ArchiveMember, MemberVisitor, ZipEntryInfo, ZipListing } from "./zip-reader.js";
export { listZip, readZipMembers, riskyZipEntries, verifyZip } from "./zip-reader.js";
export type { ZipOptions, ZipSummary } from "./zip-writer.js";
export { writeZip } from "./zip-writer.js";
