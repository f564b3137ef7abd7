import type { Stats } from "node:fs";
import { link, lstat, mkdir, readdir, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fromSystemError, StorageError } from "./errors.js";
import type { FileInfo, FileSystem, RenameOptions } from "./file-system.js";
import { openLocalFile, openPutSource, writeFileAtomically } from "./transfer.js";

function toFileInfo(path: string, info: Stats): FileInfo {
  return {
    path,
    name: basename(path),
    type: info.isDirectory() ? "directory" : "file",
    size: info.isDirectory() ? 0 : info.size,
    modifiedAt: info.mtime,
    mode: info.mode & 0o7777,
  };
}

/**
 * Turns what a user wrote for a local store (`/abs`, `relative`, `~/x`, `file:///abs`) into an absolute path.
 */
export function localPathOf(pathOrFileUrl: string): string {
  if (pathOrFileUrl.startsWith("file:")) {
    try {
      return fileURLToPath(pathOrFileUrl);
    } catch (cause) {
      throw new StorageError("INVALID_ARGUMENT", "not a valid file:// URL (use file:///absolute/path)", {
        uri: pathOrFileUrl,
        cause,
      });
    }
  }
  if (pathOrFileUrl === "~" || pathOrFileUrl.startsWith("~/")) {
    return join(homedir(), pathOrFileUrl.slice(1));
  }
  return resolve(pathOrFileUrl);
}

/** Local disks and shared mounts (NFS). Every write is atomic: temp file, fsync, rename. */
export function localFileSystem(): FileSystem {
  const wrap = (path: string) => (error: unknown) => {
    throw fromSystemError(error, path);
  };

  const statOf = async (path: string) => toFileInfo(path, await stat(path).catch(wrap(path)));

  return {
    scheme: "file",
    supportsBeforeCommit: true,
    toUri: (path) => path,

    stat: statOf,

    async exists(path) {
      try {
        await stat(path);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw fromSystemError(error, path);
      }
    },

    async ls(path) {
      const info = await statOf(path);
      if (info.type === "file") return [info];
      const names = (await readdir(path).catch(wrap(path))).sort();
      const children = await Promise.all(
        names.map((name) =>
          stat(join(path, name)).then(
            (entry) => toFileInfo(join(path, name), entry),
            () => undefined,
          ),
        ),
      );
      // An entry removed (or a dangling symlink) between readdir and stat is simply not listed.
      return children.filter((child): child is FileInfo => child !== undefined);
    },

    async mkdir(path) {
      const existing = await stat(path).catch(() => undefined);
      if (existing && !existing.isDirectory()) {
        throw new StorageError("ALREADY_EXISTS", "exists and is not a directory", { uri: path });
      }
      await mkdir(path, { recursive: true }).catch(wrap(path));
    },

    async put(source, remotePath, options = {}) {
      const opened = await openPutSource(source, options.size);
      const verified = await writeFileAtomically(remotePath, opened.stream, {
        verify: true,
        ...(options.onProgress && { onProgress: options.onProgress }),
        ...(opened.size !== undefined && { totalBytes: opened.size }),
        ...((opened.mode ?? options.mode) !== undefined && { mode: opened.mode ?? options.mode }),
        ...(options.overwrite !== undefined && { overwrite: options.overwrite }),
        ...(options.signal && { signal: options.signal }),
        ...(options.beforeCommit && { beforeCommit: options.beforeCommit }),
      });
      return verified ? { verified } : {};
    },

    async get(remotePath, localPath, options = {}) {
      const opened = await openPutSource(remotePath);
      await writeFileAtomically(localPath, opened.stream, {
        ...(options.onProgress && { onProgress: options.onProgress }),
        ...(opened.size !== undefined && { totalBytes: opened.size }),
        ...(opened.mode !== undefined && { mode: opened.mode }),
        ...(options.signal && { signal: options.signal }),
      });
    },

    open: (path, options) => openLocalFile(path, options),

    async rm(path, options = {}) {
      const info = await lstat(path).catch(wrap(path));
      if (!info.isDirectory()) {
        await unlink(path).catch(wrap(path));
      } else if (options.recursive) {
        await rm(path, { recursive: true }).catch(wrap(path));
      } else {
        await rmdir(path).catch(wrap(path));
      }
    },

    async rename(from, to, options: RenameOptions = {}) {
      const source = await stat(from).catch(wrap(from));
      await mkdir(dirname(to), { recursive: true }).catch(wrap(dirname(to)));
      const target = await stat(to).catch(() => undefined);
      if (target && !options.overwrite) {
        throw new StorageError("ALREADY_EXISTS", "already exists (pass overwrite to replace it)", {
          uri: to,
        });
      }
      if (target?.isDirectory()) {
        throw new StorageError("INVALID_ARGUMENT", "is a directory and cannot be replaced by a rename", {
          uri: to,
        });
      }
      if (source.isFile() && !options.overwrite) {
        // link() refuses an existing target atomically, where a check-then-rename could race.
        await link(from, to).catch(wrap(to));
        await unlink(from).catch(wrap(from));
        return;
      }
      await rename(from, to).catch(wrap(to));
    },
  };
}
