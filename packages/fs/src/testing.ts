/**
 * The conformance suite every FileSystem adapter must pass, ours or a third party's:
 * `describeFileSystem("s3", async () => ({ baseUri: "s3://bucket/run-1", options }))`.
 * Runs inside vitest (an optional peer dependency of this package).
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putCommitting } from "./committing-put.js";
import { StorageError } from "./errors.js";
import type {
  FileSystem,
  OpenOptions,
  ResolvedPath,
  StorageOptions,
  TransferProgress,
} from "./file-system.js";
import { resolveFileSystem } from "./registry.js";

export interface ConformanceTarget {
  /** URI of an empty directory the suite may fill; unique per run. */
  baseUri: string;
  options?: StorageOptions;
  /** Called after the suite (stop servers, remove the directory). */
  cleanup?: () => Promise<void>;
}

export interface ConformanceOptions {
  /** Size of the round-trip file (default 25 MiB). */
  largeFileBytes?: number;
  /** Per-test timeout in ms (default 60 s). */
  timeout?: number;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function caught(promise: Promise<unknown>): Promise<StorageError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    return error as StorageError;
  }
  throw new Error("expected the operation to fail with a StorageError");
}

export function describeFileSystem(
  name: string,
  setup: () => Promise<ConformanceTarget>,
  conformance: ConformanceOptions = {},
): void {
  const largeFileBytes = conformance.largeFileBytes ?? 25 * 1024 * 1024;
  const timeout = conformance.timeout ?? 60_000;

  describe(`FileSystem conformance: ${name}`, () => {
    let target: ConformanceTarget;
    let scratch: string;
    const opened: FileSystem[] = [];

    /** Resolves `<baseUri>/<relative>` through the registry, as users reach every backend. */
    const at = async (relative: string): Promise<ResolvedPath> => {
      const resolved = await resolveFileSystem(`${target.baseUri}/${relative}`, target.options);
      opened.push(resolved.fs);
      return resolved;
    };

    const putText = async (relative: string, text: string) => {
      const { fs, path } = await at(relative);
      await fs.put(Readable.from([Buffer.from(text)]), path);
    };

    const readText = async (relative: string) => {
      const { fs, path } = await at(relative);
      return (await readAll(await fs.open(path))).toString();
    };

    beforeAll(async () => {
      target = await setup();
      scratch = await mkdtemp(join(tmpdir(), "cp-conformance-"));
    }, timeout);

    afterAll(async () => {
      await Promise.all(opened.map((fs) => fs.close?.()));
      await rm(scratch, { recursive: true, force: true });
      await target?.cleanup?.();
    }, timeout);

    it(
      `round-trips a ${Math.round(largeFileBytes / 1024 / 1024)} MiB file: put with progress, stat, ls, get, rename, rm`,
      async () => {
        const local = join(scratch, "large.bin");
        await writeFile(local, randomBytes(largeFileBytes));
        const { fs, path } = await at("round-trip/large.bin");

        const progress: TransferProgress[] = [];
        await fs.put(local, path, { onProgress: (event) => progress.push(event) });
        expect(progress.length).toBeGreaterThan(1);
        const transferred = progress.map((event) => event.transferredBytes);
        expect(transferred).toEqual([...transferred].sort((a, b) => a - b));
        expect(progress.at(-1)).toMatchObject({
          transferredBytes: largeFileBytes,
          totalBytes: largeFileBytes,
        });

        expect(await fs.stat(path)).toMatchObject({ type: "file", size: largeFileBytes, name: "large.bin" });
        const parent = await at("round-trip");
        const listing = await parent.fs.ls(parent.path);
        expect(listing.map((entry) => [entry.name, entry.type, entry.size])).toEqual([
          ["large.bin", "file", largeFileBytes],
        ]);

        const downloaded = join(scratch, "large.copy");
        const downloadProgress: TransferProgress[] = [];
        await fs.get(path, downloaded, { onProgress: (event) => downloadProgress.push(event) });
        expect(await sha256OfFile(downloaded)).toBe(await sha256OfFile(local));
        expect(downloadProgress.at(-1)?.transferredBytes).toBe(largeFileBytes);

        const renamed = await at("round-trip/renamed.bin");
        await fs.rename(path, renamed.path);
        expect(await fs.exists(path)).toBe(false);
        expect((await fs.stat(renamed.path)).size).toBe(largeFileBytes);

        await fs.rm(renamed.path);
        expect(await fs.exists(renamed.path)).toBe(false);
      },
      timeout,
    );

    it("reports a missing file as NOT_FOUND, naming its URI", async () => {
      const { fs, path } = await at("absent/missing.bin");
      const operations = [() => fs.stat(path), () => fs.open(path), () => fs.ls(path), () => fs.rm(path)];
      for (const operation of operations) {
        const error = await caught(operation());
        expect(error.code).toBe("NOT_FOUND");
        expect(error.message).toContain(fs.toUri(path));
        expect(error.message).not.toContain("\n");
      }
      expect(await fs.exists(path)).toBe(false);
    });

    it("leaves no local file behind when a download fails", async () => {
      const { fs, path } = await at("absent/missing.bin");
      const local = join(scratch, "never.bin");
      expect((await caught(fs.get(path, local))).code).toBe("NOT_FOUND");
      await expect(stat(local)).rejects.toThrow();
    });

    it("puts a stream and reads it back whole and by byte range", async () => {
      const { fs, path } = await at("streams/text.txt");
      const body = "0123456789abcdefghij";
      const progress: TransferProgress[] = [];
      await fs.put(Readable.from([Buffer.from(body.slice(0, 7)), Buffer.from(body.slice(7))]), path, {
        onProgress: (event) => progress.push(event),
      });
      expect(progress.at(-1)?.transferredBytes).toBe(body.length);
      expect((await readAll(await fs.open(path))).toString()).toBe(body);
      expect((await readAll(await fs.open(path, { offset: 10, length: 5 }))).toString()).toBe("abcde");
      expect((await readAll(await fs.open(path, { offset: 15 }))).toString()).toBe("fghij");
    });

    it("reads byte ranges by one rule: clipped at the end, empty at the end, refused past it", async () => {
      const { fs, path } = await at("ranges/twenty.txt");
      const body = "0123456789abcdefghij";
      await fs.put(Readable.from([Buffer.from(body)]), path);
      const read = async (range: OpenOptions) => (await readAll(await fs.open(path, range))).toString();
      expect(await read({ offset: 5, length: 4 })).toBe("5678");
      expect(await read({ offset: 0, length: 20 })).toBe(body);
      expect(await read({ offset: 15 })).toBe("fghij");
      expect(await read({ offset: 16, length: 100 })).toBe("ghij");
      expect(await read({ offset: 20 })).toBe("");
      expect(await read({ offset: 20, length: 5 })).toBe("");
      expect(await read({ offset: 3, length: 0 })).toBe("");
      expect(await read({ offset: 20, length: 0 })).toBe("");

      const refused = [
        { offset: 21 },
        { offset: 21, length: 0 },
        { offset: 1000, length: 1 },
        { offset: -1 },
        { offset: -1, length: 5 },
        { offset: 2.5 },
        { offset: Number.NaN },
        { length: -1 },
        { offset: 3, length: 1.5 },
        { length: Number.POSITIVE_INFINITY },
      ];
      for (const range of refused) {
        const error = await caught(fs.open(path, range));
        expect(error.code, JSON.stringify(range)).toBe("INVALID_ARGUMENT");
        expect(error.message).toContain(fs.toUri(path));
        expect(error.message).not.toContain("\n");
      }
    });

    it("reads ranges of an empty file, and of nothing only when the file exists", async () => {
      const { fs, path } = await at("ranges/empty.txt");
      await fs.put(Readable.from([]), path);
      expect((await readAll(await fs.open(path, { offset: 0, length: 5 }))).length).toBe(0);
      expect((await readAll(await fs.open(path, { length: 0 }))).length).toBe(0);
      expect((await caught(fs.open(path, { offset: 1 }))).code).toBe("INVALID_ARGUMENT");

      const missing = await at("ranges/missing.txt");
      for (const range of [{ length: 0 }, { offset: 3 }, { offset: 3, length: 2 }]) {
        expect((await caught(missing.fs.open(missing.path, range))).code, JSON.stringify(range)).toBe(
          "NOT_FOUND",
        );
      }
      // A malformed range is refused before the store is asked anything.
      expect((await caught(missing.fs.open(missing.path, { offset: -1 }))).code).toBe("INVALID_ARGUMENT");

      const directory = await at("ranges");
      for (const range of [{ length: 0 }, { offset: 1 }]) {
        const error = await caught(directory.fs.open(directory.path, range));
        expect(error.code, JSON.stringify(range)).toBe("INVALID_ARGUMENT");
      }
    });

    it(
      "calls beforeCommit once every byte is stored and before the target changes (putCommitting on any adapter)",
      async () => {
        await putText("committed/archive.bin", "previous");
        const { fs, path } = await at("committed/archive.bin");
        const bytes = randomBytes(largeFileBytes);
        const seenAtCommit: string[] = [];
        let sent = 0;
        async function* counted() {
          for (let offset = 0; offset < bytes.length; offset += 1 << 20) {
            const chunk = bytes.subarray(offset, offset + (1 << 20));
            sent += chunk.length;
            yield chunk;
          }
        }
        await putCommitting(fs, counted(), path, {
          beforeCommit: async () => {
            expect(sent).toBe(bytes.length);
            seenAtCommit.push(await readText("committed/archive.bin"));
          },
        });
        expect(seenAtCommit).toEqual(["previous"]);
        expect(
          createHash("sha256")
            .update(await readAll(await fs.open(path)))
            .digest("hex"),
        ).toBe(createHash("sha256").update(bytes).digest("hex"));
      },
      timeout,
    );

    it("keeps the previous target, and nothing beside it, when beforeCommit throws", async () => {
      await putText("withdrawn/archive.bin", "previous");
      const { fs, path } = await at("withdrawn/archive.bin");
      const refusal = new Error("metadata could not be removed");
      const put = putCommitting(fs, Readable.from([randomBytes(64 * 1024)]), path, {
        beforeCommit: async () => {
          throw refusal;
        },
      });
      await expect(put).rejects.toBe(refusal);
      expect(await readText("withdrawn/archive.bin")).toBe("previous");
      const parent = await at("withdrawn");
      expect((await parent.fs.ls(parent.path)).map((entry) => entry.name)).toEqual(["archive.bin"]);
    });

    it("puts an empty file", async () => {
      const { fs, path } = await at("streams/empty.txt");
      await fs.put(Readable.from([]), path);
      expect(await fs.stat(path)).toMatchObject({ type: "file", size: 0 });
    });

    it("refuses to overwrite when overwrite is false and keeps the existing content", async () => {
      await putText("guarded/file.txt", "first");
      const { fs, path } = await at("guarded/file.txt");
      const error = await caught(fs.put(Readable.from([Buffer.from("second")]), path, { overwrite: false }));
      expect(error.code).toBe("ALREADY_EXISTS");
      expect(await readText("guarded/file.txt")).toBe("first");
      await fs.put(Readable.from([Buffer.from("third")]), path);
      expect(await readText("guarded/file.txt")).toBe("third");
    });

    it("creates directories with their parents and lists children sorted, with types", async () => {
      const { fs, path } = await at("tree/a/b/c");
      await fs.mkdir(path);
      await fs.mkdir(path);
      expect((await fs.stat(path)).type).toBe("directory");
      await putText("tree/z.txt", "z");
      await putText("tree/m.txt", "mm");
      const tree = await at("tree");
      const listing = await tree.fs.ls(tree.path);
      expect(listing.map((entry) => [entry.name, entry.type])).toEqual([
        ["a", "directory"],
        ["m.txt", "file"],
        ["z.txt", "file"],
      ]);
      expect(listing.find((entry) => entry.name === "m.txt")?.size).toBe(2);
      const file = await at("tree/z.txt");
      expect(await file.fs.ls(file.path)).toMatchObject([{ name: "z.txt", type: "file", size: 1 }]);
    });

    it("removes a directory tree only when asked to recurse", async () => {
      await putText("doomed/inner/file.txt", "x");
      const { fs, path } = await at("doomed");
      expect((await caught(fs.rm(path))).code).toBe("INVALID_ARGUMENT");
      expect(await readText("doomed/inner/file.txt")).toBe("x");
      await fs.rm(path, { recursive: true });
      expect(await fs.exists(path)).toBe(false);
    });

    it("renames onto an existing file only with overwrite", async () => {
      await putText("moves/from.txt", "new");
      await putText("moves/to.txt", "old");
      const from = await at("moves/from.txt");
      const to = await at("moves/to.txt");
      expect((await caught(from.fs.rename(from.path, to.path))).code).toBe("ALREADY_EXISTS");
      expect(await readText("moves/to.txt")).toBe("old");
      await from.fs.rename(from.path, to.path, { overwrite: true });
      expect(await readText("moves/to.txt")).toBe("new");
      expect(await from.fs.exists(from.path)).toBe(false);
    });

    it("renames into a directory that does not exist yet", async () => {
      await putText("moves/lonely.txt", "here");
      const from = await at("moves/lonely.txt");
      const to = await at("moves/new/dir/lonely.txt");
      await from.fs.rename(from.path, to.path);
      expect(await readText("moves/new/dir/lonely.txt")).toBe("here");
    });

    it("downloads a file to a local path atomically, replacing what was there", async () => {
      await putText("downloads/data.txt", "remote content");
      const { fs, path } = await at("downloads/data.txt");
      const local = join(scratch, "data.txt");
      await writeFile(local, "stale");
      await fs.get(path, local);
      expect(await readFile(local, "utf8")).toBe("remote content");
    });
  });
}
