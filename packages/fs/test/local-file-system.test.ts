import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describeFileSystem } from "../src/testing.js";

const localDirectory = async (prefix: string) => {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  return { directory, cleanup: () => rm(directory, { recursive: true, force: true }) };
};

describeFileSystem("local path", async () => {
  const { directory, cleanup } = await localDirectory("cp-local-");
  return { baseUri: directory, cleanup };
});

describeFileSystem("file:// URL", async () => {
  const { directory, cleanup } = await localDirectory("cp-file-url-");
  return { baseUri: pathToFileURL(directory).href, cleanup };
});
