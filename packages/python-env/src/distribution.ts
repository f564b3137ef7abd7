import type { RecordEntry } from "./record-file.js";

/** PEP 610's `direct_url.json`: how a distribution was installed when it was not from an index. */
export interface DirectUrl {
  url: string;
  dir_info?: { editable?: boolean };
  archive_info?: { hash?: string; hashes?: Record<string, string> };
  vcs_info?: { vcs: string; commit_id: string; requested_revision?: string };
  subdirectory?: string;
}

/** An installed distribution, as read from its `.dist-info`, `.egg-info` or `.egg-link`. */
export interface Distribution {
  /** The name as the project spells it (`Name:` in METADATA). */
  name: string;
  /** PEP 503 normalised: the key for every comparison. */
  normalizedName: string;
  version: string;
  /** The site directory it was found in. */
  sitePackages: string;
  /** The `.dist-info`/`.egg-info` directory (or file) holding its metadata. */
  metadataPath: string;
  format: "dist-info" | "egg-info";
  /** `INSTALLER` (`pip`, `uv`, `conda`…), when recorded. */
  installer?: string;
  /** `Tag:` lines of `WHEEL` (`cp311-cp311-manylinux_2_17_x86_64`); empty when not installed from a wheel. */
  wheelTags: string[];
  /** RECORD (or `installed-files.txt`) entries, paths relative to `sitePackages`; absent when neither exists. */
  files?: RecordEntry[];
  /** Importable top-level packages and modules (`top_level.txt`, else derived from the files). */
  topLevel: string[];
  requiresDist: string[];
  directUrl?: DirectUrl;
  /** Installed in development mode (PEP 610 `dir_info.editable`, or a legacy `.egg-link`). */
  editable: boolean;
  /** For an editable: the project directory it points at. */
  editableLocation?: string;
}

/** A distribution that could not be read completely; listing goes on without it (or without the part). */
export interface DistributionProblem {
  /** The metadata directory or file concerned. */
  path: string;
  /** The distribution's name when it is known. */
  name?: string;
  /** One line: what is wrong and what it means (names from files sanitised for a terminal; `path` is not). */
  detail: string;
  /**
   * Set when nothing identifies the distribution (no or unreadable METADATA): it is missing from the listing, so
   * packing would silently leave it out.
   */
  leftOut?: true;
  /** Set when the distribution is an editable install: shipping its code cannot work until it is mended. */
  editable?: true;
}
