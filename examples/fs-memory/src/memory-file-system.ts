import { posix } from "node:path";
import { Readable } from "node:stream";
import {
  checkByteRange,
  type FileInfo,
  type FileSystem,
  openPutSource,
  progressTap,
  StorageError,
  writeFileAtomically,
} from "@cluster-pack/fs";

interface StoredFile {
  data: Buffer;
  modifiedAt: Date;
}

/** One named store (`memory://<name>/…`): files and explicit directories, kept for the life of the process. */
interface MemoryStore {
  files: Map<string, StoredFile>;
  directories: Set<string>;
}

const stores = new Map<string, MemoryStore>();

function storeNamed(name: string): MemoryStore {
  let store = stores.get(name);
  if (!store) {
    store = { files: new Map(), directories: new Set(["/"]) };
    stores.set(name, store);
  }
  return store;
}

/** Forgets every memory store (tests call it between runs). */
export function clearMemoryStores(): void {
  stores.clear();
}

function normalize(path: string): string {
  const normalized = posix.normalize(`/${path}`);
  return normalized.length > 1 && normalized.endsWith("/") ? normalized.slice(0, -1) : normalized;
}

const isUnder = (path: string, directory: string) =>
  directory === "/" ? path !== "/" : path.startsWith(`${directory}/`);

export function memoryFileSystem(storeName: string): FileSystem {
  const store = storeNamed(storeName);
  const toUri = (path: string) => `memory://${storeName}${normalize(path)}`;
  const fail = (code: StorageError["code"], detail: string, path: string): never => {
    throw new StorageError(code, detail, { uri: toUri(path) });
  };

  const infoOf = (path: string): FileInfo | undefined => {
    const file = store.files.get(path);
    const name = posix.basename(path);
    if (file) return { path, name, type: "file", size: file.data.length, modifiedAt: file.modifiedAt };
    if (store.directories.has(path)) return { path, name, type: "directory", size: 0 };
    return undefined;
  };

  const statOf = (rawPath: string): FileInfo => {
    const path = normalize(rawPath);
    return infoOf(path) ?? fail("NOT_FOUND", "no such file or directory", path);
  };

  const makeDirectories = (path: string) => {
    for (let current = path; current !== "/"; current = posix.dirname(current)) {
      if (store.files.has(current)) fail("ALREADY_EXISTS", "exists and is not a directory", current);
      store.directories.add(current);
    }
  };

  const entriesUnder = (directory: string) => [
    ...[...store.files.keys()].filter((path) => isUnder(path, directory)),
    ...[...store.directories].filter((path) => isUnder(path, directory)),
  ];

  return {
    scheme: "memory",
    toUri,

    stat: async (path) => statOf(path),

    exists: async (path) => infoOf(normalize(path)) !== undefined,

    async ls(rawPath) {
      const info = statOf(rawPath);
      if (info.type === "file") return [info];
      return entriesUnder(info.path)
        .filter((path) => posix.dirname(path) === info.path)
        .sort()
        .map((path) => infoOf(path) as FileInfo);
    },

    async mkdir(path) {
      makeDirectories(normalize(path));
    },

    async put(source, remotePath, options = {}) {
      const path = normalize(remotePath);
      const guard = () => {
        if (store.directories.has(path))
          fail("INVALID_ARGUMENT", "is a directory; give the path of a file", path);
        if (options.overwrite === false && store.files.has(path)) {
          fail("ALREADY_EXISTS", "already exists (overwrite is off)", path);
        }
      };
      guard();
      const opened = await openPutSource(source, options.size);
      const chunks: Buffer[] = [];
      for await (const chunk of opened.stream.pipe(progressTap(options.onProgress, opened.size))) {
        chunks.push(chunk as Buffer);
      }
      // The store only ever sees the complete file; re-check in case another writer won meanwhile.
      guard();
      makeDirectories(posix.dirname(path));
      store.files.set(path, { data: Buffer.concat(chunks), modifiedAt: new Date() });
    },

    async get(remotePath, localPath, options = {}) {
      const info = statOf(remotePath);
      if (info.type !== "file") fail("INVALID_ARGUMENT", "is a directory, not a file", info.path);
      const file = store.files.get(info.path) as StoredFile;
      await writeFileAtomically(localPath, Readable.from([file.data]), {
        totalBytes: file.data.length,
        ...(options.onProgress && { onProgress: options.onProgress }),
      });
    },

    async open(path, options = {}) {
      // A malformed range is refused before the store is looked at; the rest of the rule needs the size.
      checkByteRange(options, toUri(path));
      const info = statOf(path);
      const file =
        store.files.get(info.path) ?? fail("INVALID_ARGUMENT", "is a directory, not a file", info.path);
      const { offset, length } = checkByteRange(options, toUri(info.path), file.data.length);
      return Readable.from([file.data.subarray(offset, offset + length)]);
    },

    async rm(rawPath, options = {}) {
      const info = statOf(rawPath);
      if (info.type === "file") {
        store.files.delete(info.path);
        return;
      }
      const children = entriesUnder(info.path);
      if (children.length > 0 && !options.recursive) {
        fail("INVALID_ARGUMENT", "directory is not empty (use the recursive option)", info.path);
      }
      for (const child of children) {
        store.files.delete(child);
        store.directories.delete(child);
      }
      if (info.path !== "/") store.directories.delete(info.path);
    },

    async rename(rawFrom, rawTo, options = {}) {
      const source = statOf(rawFrom);
      const to = normalize(rawTo);
      const target = infoOf(to);
      if (target && !options.overwrite)
        fail("ALREADY_EXISTS", "already exists (pass overwrite to replace it)", to);
      if (target?.type === "directory") fail("INVALID_ARGUMENT", "is a directory and cannot be replaced", to);
      makeDirectories(posix.dirname(to));
      const moved = [source.path, ...entriesUnder(source.path)];
      for (const path of moved) {
        const destination = to + path.slice(source.path.length);
        const file = store.files.get(path);
        if (file) {
          store.files.set(destination, file);
          store.files.delete(path);
        } else {
          store.directories.add(destination);
          store.directories.delete(path);
        }
      }
    },
  };
}
