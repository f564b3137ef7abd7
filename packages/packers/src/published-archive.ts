import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { rename, rm } from "node:fs/promises";

/**
 * Runs `write` on a temporary file beside `output`, hashes what it wrote and renames it into place: the archive
 * appears complete or not at all, and the temporary file is removed when anything fails.
 */
export async function publishArchive<T>(
  output: string,
  write: (temporary: string) => Promise<T>,
): Promise<{ written: T; sha256: string }> {
  const temporary = `${output}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const written = await write(temporary);
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(temporary)) hash.update(chunk as Buffer);
    const sha256 = hash.digest("hex");
    await rename(temporary, output);
    return { written, sha256 };
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
