import { createHash, randomBytes } from "node:crypto";
import { resolveFileSystem } from "@cluster-pack/fs";
import { startWebHdfsServer, type WebHdfsServer } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueDirectory } from "./support.js";

const MiB = 1024 * 1024;
const FILE_BYTES = 1024 * MiB;

/** Samples the resident set size while `work` runs; returns the largest growth over the start. */
async function peakRssGrowth(work: () => Promise<void>): Promise<number> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage.rss()) - start;
}

describe("streaming", () => {
  let server: WebHdfsServer;
  beforeAll(async () => {
    server = await startWebHdfsServer();
  });
  afterAll(() => server.stop());

  it("uploads and downloads 1 GiB in bounded memory and time", async () => {
    const started = Date.now();
    const { fs, path } = await resolveFileSystem(
      `webhdfs://${server.namenodeAddress}${uniqueDirectory("large")}/env.pex`,
      { hdfs: { user: "alice" } },
    );
    // One random MiB sent 1024 times: the source itself holds 1 MiB, so any growth is the transfer's.
    const block = randomBytes(MiB);
    const sent = createHash("sha256");
    async function* generated() {
      for (let offset = 0; offset < FILE_BYTES; offset += MiB) {
        sent.update(block);
        yield block;
      }
    }

    let uploaded = 0;
    const uploadGrowth = await peakRssGrowth(async () => {
      await fs.put(generated(), path, {
        onProgress: (progress) => {
          uploaded = progress.transferredBytes;
        },
      });
    });
    expect(uploaded).toBe(FILE_BYTES);
    expect((await fs.stat(path)).size).toBe(FILE_BYTES);

    const received = createHash("sha256");
    let downloaded = 0;
    const downloadGrowth = await peakRssGrowth(async () => {
      for await (const chunk of await fs.open(path)) {
        received.update(chunk as Buffer);
        downloaded += (chunk as Buffer).length;
      }
    });
    expect(downloaded).toBe(FILE_BYTES);
    expect(received.digest("hex")).toBe(sent.digest("hex"));

    // A buffered transfer would grow by the file size; a streamed one by buffers and garbage awaiting GC.
    expect(uploadGrowth).toBeLessThan(FILE_BYTES / 8);
    expect(downloadGrowth).toBeLessThan(FILE_BYTES / 8);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 120_000);
});
