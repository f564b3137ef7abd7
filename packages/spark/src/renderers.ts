import { EnvUsageError, shellQuote } from "@cluster-pack/env-usage";
import type { SparkConfig } from "./spark-config.js";

// spark-submit has flags of its own for these two; every other property goes through --conf.
const FLAG_PROPERTIES: Readonly<Record<string, string>> = {
  "spark.master": "--master",
  "spark.submit.deployMode": "--deploy-mode",
};

/** The `spark-submit` arguments (without the program name and the application). */
export function toSparkSubmitArgs(config: SparkConfig): string[] {
  const args = ["--master", config.master, "--deploy-mode", config.deployMode];
  for (const [key, value] of Object.entries(config.properties))
    if (!(key in FLAG_PROPERTIES)) args.push("--conf", `${key}=${value}`);
  return args;
}

export interface SparkSubmitCommandOptions {
  /** The application file and its arguments; default `app.py`. */
  application?: string;
  args?: readonly string[];
}

/** A `spark-submit` command line for a POSIX shell, one option a line, with the environment variables before it. */
export function toSparkSubmitCommand(config: SparkConfig, options: SparkSubmitCommandOptions = {}): string {
  const assignments = Object.entries(config.environmentVariables).map(
    ([name, value]) => `${name}=${shellQuote(value)}`,
  );
  const args = toSparkSubmitArgs(config);
  const lines = [[...assignments, "spark-submit"].join(" ")];
  for (let index = 0; index < args.length; index += 2)
    lines.push(`  ${shellQuote(args[index] ?? "")} ${shellQuote(args[index + 1] ?? "")}`);
  lines.push(`  ${[options.application ?? "app.py", ...(options.args ?? [])].map(shellQuote).join(" ")}`);
  return `${lines.join(" \\\n")}\n`;
}

/**
 * Text for a Java properties file, as Spark reads spark-defaults.conf (`Properties.load`): backslashes, control
 * characters and anything beyond ASCII escaped (`\uXXXX` per UTF-16 unit, whatever the file's encoding), plus, in
 * a key, the separators and, in a value, a leading blank (which would be taken for part of the separator).
 */
function escapeProperties(text: string, part: "key" | "value"): string {
  return text
    .split("")
    .map((char, index) => {
      if (char === "\\") return "\\\\";
      if (char === "\n") return "\\n";
      if (char === "\r") return "\\r";
      if (char === "\t") return "\\t";
      const code = char.charCodeAt(0);
      if (code < 0x20 || code > 0x7e) return `\\u${code.toString(16).padStart(4, "0")}`;
      if (part === "key" ? " =:#!".includes(char) : char === " " && index === 0) return `\\${char}`;
      return char;
    })
    .join("");
}

/** The properties as `spark-defaults.conf` lines (`key value`); environment variables have no place there. */
export function toSparkDefaultsConf(config: Pick<SparkConfig, "properties">): string {
  const entries = Object.entries(config.properties);
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries
    .map(
      ([key, value]) =>
        `${escapeProperties(key, "key").padEnd(width)}  ${escapeProperties(value, "value")}\n`,
    )
    .join("");
}

/** The whole configuration as JSON: `master`, `clusterManager`, `deployMode`, `properties`, `environmentVariables`. */
export const toSparkJson = (config: SparkConfig) => `${JSON.stringify(config, null, 2)}\n`;

// A JSON string is a valid Python string literal: the same escapes (\", \\, \n, \uXXXX).
const pythonString = (text: string) => JSON.stringify(text);

/**
 * A Python snippet that starts a SparkSession with the configuration from a running interpreter (a notebook, a
 * script run with `python`). That interpreter is the driver, so only client and local mode apply. The
 * environment variables are set first: PySpark reads `PYSPARK_PYTHON` when the SparkContext starts.
 */
export function toSparkSessionBuilder(config: SparkConfig): string {
  if (config.deployMode === "cluster")
    throw new EnvUsageError(
      "a SparkSession.builder snippet runs the driver in the current Python: use client mode, or spark-submit for cluster mode",
      "deployMode cluster",
    );
  const lines = [
    "import os",
    "",
    "from pyspark.sql import SparkSession",
    "",
    "# Read by PySpark when the SparkContext starts: the Python its executors run.",
  ];
  for (const [name, value] of Object.entries(config.environmentVariables))
    lines.push(`os.environ[${pythonString(name)}] = ${pythonString(value)}`);
  lines.push("spark = (", `    SparkSession.builder.master(${pythonString(config.master)})`);
  for (const [key, value] of Object.entries(config.properties))
    if (key !== "spark.master") lines.push(`    .config(${pythonString(key)}, ${pythonString(value)})`);
  lines.push("    .getOrCreate()", ")");
  return `${lines.join("\n")}\n`;
}
