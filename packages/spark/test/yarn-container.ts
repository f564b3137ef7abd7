// YARN's part for the emitted Spark configuration, shared by the localization suites: what the properties list
// is localized as a NodeManager would (files, archives under their #alias, pyFiles on PYTHONPATH), and a command
// runs in the container directory with only the environment the configuration gives it.
import { join } from "node:path";
import { basenameOf, splitCommaList } from "@cluster-pack/env-usage";
import {
  type ContainerResource,
  execute,
  type LocalizedContainer,
  localizeContainer,
  type RunningS3rver,
} from "@cluster-pack/testkit";
import type { SparkConfig } from "../src/index.js";

/** The `uri#alias` entries of a comma-separated property, as YARN names them in the container. */
const resourcesOf = (list: string | undefined, type: "file" | "archive"): ContainerResource[] =>
  splitCommaList(list).map((entry) => {
    const [source = "", alias] = entry.split("#");
    return { source, name: alias ?? basenameOf(source), type };
  });

/** What a container of the configuration localizes: the dist files, the dist archives, then the pyFiles. */
export function containerResources(properties: Record<string, string>) {
  const pyFiles = resourcesOf(properties["spark.submit.pyFiles"], "file");
  const resources = [
    ...resourcesOf(properties["spark.yarn.dist.files"], "file"),
    ...resourcesOf(properties["spark.yarn.dist.archives"], "archive"),
    ...pyFiles,
  ];
  return { resources, pyFiles };
}

/** The variables a prefix gives a container (`spark.executorEnv.`, `spark.yarn.appMasterEnv.`). */
export const envWithPrefix = (properties: Record<string, string>, prefix: string) =>
  Object.fromEntries(
    Object.entries(properties)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );

/**
 * Localizes a YARN container for the configuration, reading S3 with the s3a settings it emitted. Returns the
 * container (the caller cleans it up) and the PYTHONPATH its pyFiles make.
 */
export async function localizeSparkContainer(
  config: SparkConfig,
  s3: RunningS3rver,
): Promise<{ container: LocalizedContainer; pythonPath: string }> {
  const { properties } = config;
  const { resources, pyFiles } = containerResources(properties);
  const container = await localizeContainer(resources, {
    storage: {
      s3: {
        endpoint: properties["spark.hadoop.fs.s3a.endpoint"],
        forcePathStyle: properties["spark.hadoop.fs.s3a.path.style.access"] === "true",
        region: properties["spark.hadoop.fs.s3a.endpoint.region"],
        // What the node's credentials provider finds; the configuration carries none.
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      },
    },
  });
  // Spark on YARN puts each pyFile at {{PWD}}/<name> on the containers' PYTHONPATH.
  const pythonPath = pyFiles.map(({ name }) => join(container.directory, name)).join(":");
  return { container, pythonPath };
}

/** Runs a command in the container directory with PATH, a HOME that does not exist, and `env`, nothing else. */
export function execInContainer(
  directory: string,
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  home: string,
) {
  return execute(command, args, {
    cwd: directory,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...env },
  });
}
