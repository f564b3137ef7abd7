import { homedir } from "node:os";
import { join } from "node:path";

/** Environment variable that moves the embedded local store. */
export const STORE_ENV = "CLUSTER_PACK_STORE";

/**
 * The store used when no other is configured: a directory on this machine, so every command works with no
 * set-up. `$CLUSTER_PACK_STORE`, else `$XDG_CACHE_HOME/cluster-pack/store`, else `~/.cache/cluster-pack/store`.
 */
export function embeddedStorePath(environment: NodeJS.ProcessEnv = process.env): string {
  const explicit = environment[STORE_ENV];
  if (explicit) return explicit;
  const cacheHome = environment.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cacheHome, "cluster-pack", "store");
}
