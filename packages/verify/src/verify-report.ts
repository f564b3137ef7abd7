import type { ArchiveFormat } from "@cluster-pack/env-usage";

/** One top-level module of the archive, imported in a process of its own. */
export interface ModuleCheck {
  /** The import name (`numpy`, `yaml`, `_cffi_backend`). */
  module: string;
  /** The distribution that ships it, as its metadata spells it. */
  distribution: string;
  /** Imported, and every native library its files need resolves. */
  ok: boolean;
  /** Why not, in one sanitized line: the exception's last line, a crash, a timeout, or the missing libraries. */
  error?: string;
  /** DT_NEEDED libraries of the module's ELF files found neither in the archive nor on this machine. */
  missingLibraries: string[];
}

/** One ELF file of the archive (extension module, shared library, executable) and what it fails to find. */
export interface ElfCheck {
  /** Its path inside the unpacked archive (`.deps/pkg/_ext.cpython-311-x86_64-linux-gnu.so`, `lib/libfoo.so.1`). */
  path: string;
  /** The top-level module whose directory holds it, when one does. */
  module?: string;
  missingLibraries: string[];
}

export interface VerifyReport {
  /** The archive as given (a path or a stored URI). */
  archive: string;
  format: ArchiveFormat;
  /** The command that runs the archive's Python, without the code it is given (paths in the work directory). */
  interpreterCommand: string[];
  /** Whether the archive started at all (unpacked, conda-unpack run, an empty program run); nothing else ran if not. */
  startup: { ok: boolean; error?: string };
  modules: ModuleCheck[];
  /** Every ELF file checked; `missingLibraries` is empty for one whose libraries all resolve. */
  elfFiles: ElfCheck[];
  /** Everything started, imported and resolved. */
  ok: boolean;
}
