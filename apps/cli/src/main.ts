// The `cluster-pack` command: parses flags, calls the façade, renders. Errors become one line and an exit code here.
// `cli.ts` runs it; the standalone build runs it from its own entry, with the storage adapters built in.

import { Command, CommanderError, Option } from "commander";
import packageJson from "../package.json";
import { configCommand } from "./commands/config.js";
import { infoCommand } from "./commands/info.js";
import { lsCommand } from "./commands/ls.js";
import { packCommand } from "./commands/pack.js";
import { pruneCommand } from "./commands/prune.js";
import { reportCommand } from "./commands/report.js";
import { rmCommand } from "./commands/rm.js";
import { uploadCommand } from "./commands/upload.js";
import { uploadZipCommand } from "./commands/upload-zip.js";
import { usageCommand } from "./commands/usage.js";
import { verifyCommand } from "./commands/verify.js";
import { whereCommand } from "./commands/where.js";
import { applyToEnvironment, loadProjectConfig, type ProjectConfig } from "./config.js";
import { reportOf } from "./errors.js";
import { exitCodeOfLateSignal, Interrupted } from "./interrupts.js";
import { listOption } from "./options.js";
import { printableLine, renderError } from "./render.js";

function program(config: ProjectConfig): Command {
  const root = new Command("cluster-pack")
    .description("Ship a Python environment to Spark/YARN/Dask clusters: pack it, cache it, upload it.")
    .version(packageJson.version)
    .addOption(new Option("-q, --quiet", "print only the result (no progress, no notes)"))
    .addOption(new Option("-v, --verbose", "print what is being done on stderr"))
    .addOption(new Option("--debug", "print stack traces on errors"))
    .addOption(listOption("--plugin <name>", "storage plugin package to load (also CLUSTER_PACK_PLUGINS)"))
    .addOption(
      new Option("--kerberos", "HDFS: authenticate with Kerberos (default: hadoop.security.authentication)"),
    )
    .addOption(new Option("--principal <name>", "HDFS: the Kerberos principal to log in as (user@REALM)"))
    .addOption(new Option("--keytab <file>", "HDFS: a keytab of the principal: log in without kinit"))
    .addOption(
      new Option("--httpfs", "HDFS: the namenode addresses are HttpFS gateways (data goes through them)"),
    )
    .addOption(
      new Option(
        "--stall-timeout <seconds>",
        "give up on a store request when no byte moved for this long (default 120)",
      ),
    )
    .addOption(new Option("--retries <n>", "send a failed store request again up to n times (default 4)"))
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  for (const command of [
    uploadCommand(config),
    uploadZipCommand(config),
    packCommand(config),
    infoCommand(config),
    lsCommand(config),
    rmCommand(config),
    pruneCommand(config),
    reportCommand(config),
    verifyCommand(config),
    configCommand(config),
    usageCommand(),
    whereCommand(),
  ]) {
    command.exitOverride().configureOutput({ outputError: () => undefined });
    root.addCommand(command);
  }
  return root;
}

/** Runs the command line `argv` (without node and the script) and gives the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  // The AWS SDK prints a multi-line warning on Node 20 unless told not to; the S3 adapter loads it lazily.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const debug = argv.includes("--debug");
  try {
    const config = await loadProjectConfig();
    applyToEnvironment(config);
    await program(config).parseAsync(argv, { from: "user" });
    // Interrupted after the work was done: the result stands, the exit code says the signal (a script stops).
    return exitCodeOfLateSignal() ?? 0;
  } catch (error) {
    if (error instanceof Interrupted) {
      process.stderr.write(`${printableLine(error.message)}\n`);
      return error.exitCode;
    }
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
      // `cluster-pack` alone: the help went to stderr already.
      if (error.code === "commander.help" || error.code === "commander.executeSubCommandAsync") return 2;
    }
    const report = reportOf(error);
    renderError(report.message, report.hint, error, debug);
    return report.exitCode;
  }
}
