import { hadoopDefaultFileSystem, storeOfDefaultFileSystem } from "cluster-pack";
import { Command, Option } from "commander";
import type { GlobalFlags } from "../options.js";
import { createOutput, style, table } from "../render.js";

/** Where environments go when no package path is given. */
export interface StoreLocation {
  /** cluster-pack's `get_default_fs()`: Hadoop's `fs.defaultFS` when configured, else the embedded store. */
  defaultFs: string;
  /** `fs.defaultFS` from the Hadoop configuration (`HADOOP_CONF_DIR`, …), null without one. */
  hadoopDefaultFs: string | null;
  /** The root archives go under: `<store>/user/<user>/envs/`. */
  store: string;
}

export function whereCommand(): Command {
  return new Command("where")
    .description("where environments go by default: the default file system and the store")
    .addOption(new Option("--json", "print it as one JSON object on stdout"))
    .action(async (_flags: GlobalFlags, self: Command) => {
      // One read of the Hadoop configuration for both answers.
      const hadoopDefaultFs = (await hadoopDefaultFileSystem(process.env)) ?? null;
      const store = storeOfDefaultFileSystem(hadoopDefaultFs ?? undefined, process.env);
      const location: StoreLocation = { defaultFs: hadoopDefaultFs ?? store, hadoopDefaultFs, store };
      createOutput(self.optsWithGlobals<GlobalFlags>()).result(
        location,
        () =>
          table([
            [style.bold("default fs"), location.defaultFs],
            [style.bold("store"), location.store],
          ]),
        location.defaultFs,
      );
    });
}
