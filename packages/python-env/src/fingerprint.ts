import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Interpreter } from "./interpreter.js";
import { isBuildTool, type Requirement } from "./requirement-set.js";

const fingerprintVersion = "cluster-pack-env-1";

/** RECORD paths in the scripts directory, relative to site-packages: `../../../bin/tool`. */
const isInstallScript = (path: string) => /^(\.\.\/)+(bin|Scripts)\//.test(path);

async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * A sha256 (hex) identifying what would be packed: interpreter implementation, version, ABI and
 * `platform.platform()` (cluster-pack's own staleness keys), each requirement, and the RECORD hashes of every
 * installed one, so a rebuilt package with an unchanged version still changes the fingerprint. Package files
 * are never read: RECORD already holds their hashes. Local additional wheels are hashed (one file each).
 * Build tools (pip, setuptools, wheel) are left out, as in cluster-pack's comparisons.
 */
export async function computeFingerprint(
  interpreter: Pick<Interpreter, "implementation" | "version" | "abiTag" | "platform">,
  requirements: readonly Requirement[],
): Promise<string> {
  const hash = createHash("sha256");
  hash.update(`${fingerprintVersion}\n`);
  hash.update(`python ${interpreter.implementation} ${interpreter.version} ${interpreter.abiTag}\n`);
  hash.update(`platform ${interpreter.platform}\n`);
  const kept = requirements
    .filter((r) => !isBuildTool(r.normalizedName))
    .sort((a, b) => (a.normalizedName < b.normalizedName ? -1 : 1));
  const wheelHashes = await Promise.all(kept.map((r) => (r.wheel ? fileSha256(r.wheel) : undefined)));
  kept.forEach((requirement, index) => {
    const wheelHash = wheelHashes[index];
    hash.update(
      wheelHash
        ? `wheel ${requirement.normalizedName} sha256:${wheelHash}\n`
        : `requirement ${requirement.normalizedName} ${requirement.version ?? ""}\n`,
    );
    // Entries without a hash are RECORD itself and files made at install time (.pyc): they vary by installer.
    // Scripts are written at install time too, with the venv's own path in their shebang: only their names count.
    const lines = (requirement.distribution?.files ?? [])
      .filter((file) => file.hash)
      .map((f) => (isInstallScript(f.path) ? `${f.path}\tscript` : `${f.path}\t${f.hash}\t${f.size ?? ""}`));
    for (const line of lines.sort()) hash.update(`${line}\n`);
  });
  return hash.digest("hex");
}
