// Replaces fs-hdfs's kerberos-addon.ts in the one-file build: the optional addon is looked up beside the executable
// (or the .cjs file), where one compiled for this Node can be installed.
import { createRequire } from "node:module";
import { dirname } from "node:path";

export async function importKerberosAddon(): Promise<unknown> {
  // In a single executable application, __filename is the executable itself.
  try {
    return createRequire(__filename)("kerberos");
  } catch (error) {
    if ((error as { code?: unknown }).code !== "MODULE_NOT_FOUND") throw error;
    throw new Error(`not beside ${dirname(__filename)}: run npm install kerberos@7 there`, { cause: error });
  }
}
