/** How the archive's dependencies join `sys.path` (pex's values): only ours, ours first, or the host's first. */
export type InheritPath = "false" | "fallback" | "prefer";

/** `PEX-INFO`: the keys pex and cluster-pack-style tools read, plus what the bootstrap needs. */
export interface PexInfo {
  /** Content hash of everything extracted (`.deps/`): the extraction directory's name under `$PEX_ROOT`. */
  pex_hash: string;
  /** Hash of the editable (user) code baked in; the hash of nothing when none is. */
  code_hash: string;
  /** Distribution name → content hash of its packed files. */
  distributions: Record<string, string>;
  /** `name==version`, sorted. */
  requirements: string[];
  inherit_path: InheritPath;
  /** `module` or `module:function`; null runs as an interpreter. */
  entry_point: string | null;
  build_properties: {
    platform: string;
    python_version: string;
    implementation: string;
    abi: string;
    cluster_pack_version: string;
  };
}

/** Fixed key order, two-space indent: equal inputs give equal bytes. */
export function formatPexInfo(info: PexInfo): string {
  const ordered: PexInfo = {
    pex_hash: info.pex_hash,
    code_hash: info.code_hash,
    distributions: Object.fromEntries(
      Object.entries(info.distributions).sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
    requirements: [...info.requirements].sort(),
    inherit_path: info.inherit_path,
    entry_point: info.entry_point,
    build_properties: { ...info.build_properties },
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
