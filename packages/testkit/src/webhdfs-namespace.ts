import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RemoteException } from "./webhdfs-remote-exception.js";

interface InodeAttributes {
  name: string;
  owner: string;
  group: string;
  /** Unix bits including the sticky bit (0o1000). */
  permission: number;
  modificationTime: number;
  accessTime: number;
  fileId: number;
}

interface DirectoryInode extends InodeAttributes {
  type: "DIRECTORY";
  children: Map<string, Inode>;
}

export interface FileInode extends InodeAttributes {
  type: "FILE";
  length: number;
  /** Bytes per block, fixed when the file is created (the `blocksize` of CREATE, else the server's default). */
  blockSize: number;
  /** The local file holding the bytes. */
  blob: string;
}

type Inode = DirectoryInode | FileInode;

/** The JSON FileStatus object of the WebHDFS API. */
export interface HdfsFileStatus {
  accessTime: number;
  blockSize: number;
  childrenNum: number;
  fileId: number;
  group: string;
  length: number;
  modificationTime: number;
  owner: string;
  pathSuffix: string;
  permission: string;
  replication: number;
  storagePolicy: number;
  type: "FILE" | "DIRECTORY";
}

/** A directory to create when the server starts, e.g. another user's home. */
export interface SeedDirectory {
  path: string;
  owner: string;
  group?: string;
  permission?: number;
}

export interface NamespaceOptions {
  superuser: string;
  supergroup: string;
  /** Groups of each user (Hadoop asks the namenode host's group mapping; here it is given). */
  groups: Readonly<Record<string, readonly string[]>>;
  /** Block size of new files (dfs.blocksize, default 128 MiB). */
  blockSize?: number;
}

type Access = "READ" | "WRITE" | "EXECUTE" | "READ_EXECUTE" | "ALL";
const accessBits: Record<Access, number> = { READ: 4, WRITE: 2, EXECUTE: 1, READ_EXECUTE: 5, ALL: 7 };

const STICKY = 0o1000;
const DEFAULT_BLOCK_SIZE = 128 * 1024 * 1024;

/** A path resolved as far as it exists: `chain[0]` is the root, `chain[i]` the inode of `parts[i - 1]`. */
interface Resolved {
  path: string;
  parts: string[];
  chain: Inode[];
  target: Inode | undefined;
  parent: DirectoryInode | undefined;
}

function splitPath(path: string): string[] {
  if (!path.startsWith("/")) throw new RemoteException("InvalidPathException", `Invalid path name ${path}`);
  const parts = path.split("/").filter(Boolean);
  // HDFS refuses "." and ".." components and ":" in names (DFSUtil.isValidName).
  if (parts.some((part) => part === "." || part === ".." || part.includes(":"))) {
    throw new RemoteException("InvalidPathException", `Invalid path name Invalid file name: ${path}`);
  }
  return parts;
}

const pathOf = (parts: readonly string[], count: number) => `/${parts.slice(0, count).join("/")}`;

function symbolicPermission(inode: Inode): string {
  const bits = ["r", "w", "x"];
  let text = inode.type === "DIRECTORY" ? "d" : "-";
  for (let shift = 8; shift >= 0; shift--)
    text += inode.permission & (1 << shift) ? bits[(8 - shift) % 3] : "-";
  if (inode.permission & STICKY) text = text.slice(0, -1) + (inode.permission & 1 ? "t" : "T");
  return text;
}

const describeInode = (path: string, inode: Inode) =>
  `"${path}":${inode.owner}:${inode.group}:${symbolicPermission(inode)}`;

// HDFS lists children in the byte order of their UTF-8 names.
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The namenode's view of the file system: an inode tree with owners and permission bits, checked like HDFS's
 * FSPermissionChecker (traverse needs x on every ancestor; writes need w on the parent; the sticky bit guards
 * deletes and renames). File bytes live in a temporary directory, one local file per HDFS file.
 */
export class HdfsNamespace {
  readonly dataDirectory: string;
  private readonly options: NamespaceOptions;
  private readonly root: DirectoryInode;
  private nextFileId = 16385;

  private constructor(dataDirectory: string, options: NamespaceOptions) {
    this.dataDirectory = dataDirectory;
    this.options = options;
    this.root = this.newDirectory("", options.superuser, options.supergroup, 0o755);
  }

  static async create(options: NamespaceOptions, seed: readonly SeedDirectory[]): Promise<HdfsNamespace> {
    const namespace = new HdfsNamespace(await mkdtemp(join(tmpdir(), "cp-webhdfs-")), options);
    const { superuser, supergroup } = options;
    for (const directory of [
      { path: "/tmp", owner: superuser, group: supergroup, permission: 0o1777 },
      { path: "/user", owner: superuser, group: supergroup, permission: 0o755 },
      ...seed,
    ]) {
      namespace.seed(directory);
    }
    return namespace;
  }

  async dispose(): Promise<void> {
    await rm(this.dataDirectory, { recursive: true, force: true });
  }

  homeDirectory(user: string): string {
    return `/user/${user}`;
  }

  getFileStatus(user: string, path: string): HdfsFileStatus {
    const resolved = this.resolve(user, path);
    if (!resolved.target)
      throw new RemoteException("FileNotFoundException", `File does not exist: ${resolved.path}`);
    return this.statusOf(resolved.target, "");
  }

  /** One page of a listing: children named after `startAfter`, at most `limit`, and how many remain. */
  listStatus(
    user: string,
    path: string,
    startAfter = "",
    limit = Number.POSITIVE_INFINITY,
  ): { statuses: HdfsFileStatus[]; remainingEntries: number } {
    const resolved = this.resolve(user, path);
    const { target } = resolved;
    if (!target) throw new RemoteException("FileNotFoundException", `File ${resolved.path} does not exist.`);
    // A file lists as itself, with an empty pathSuffix.
    if (target.type === "FILE") return { statuses: [this.statusOf(target, "")], remainingEntries: 0 };
    this.check(user, target, resolved.path, "READ_EXECUTE");
    const names = [...target.children.keys()]
      .sort(byteOrder)
      .filter((name) => byteOrder(name, startAfter) > 0);
    const page = names.slice(0, limit);
    return {
      statuses: page.map((name) => this.statusOf(target.children.get(name) as Inode, name)),
      remainingEntries: names.length - page.length,
    };
  }

  mkdirs(user: string, path: string, permission = 0o755): boolean {
    const resolved = this.resolve(user, path);
    if (resolved.target?.type === "DIRECTORY") return true;
    if (resolved.target)
      throw new RemoteException("FileAlreadyExistsException", `Path is not a directory: ${resolved.path}`);
    const deepest = this.deepestExisting(resolved);
    this.check(user, deepest.inode, deepest.path, "WRITE");
    let directory = deepest.inode;
    for (const name of resolved.parts.slice(resolved.chain.length - 1)) {
      // Like HDFS, parents made on the way keep u+wx so that the creator can go on below them.
      const child = this.newDirectory(name, user, directory.group, permission | 0o300);
      directory.children.set(name, child);
      directory.modificationTime = child.modificationTime;
      directory = child;
    }
    directory.permission = permission;
    return true;
  }

  /** The namenode side of CREATE: checks, replaces an old file when allowed, and adds an empty file. */
  create(
    user: string,
    path: string,
    options: { overwrite: boolean; permission: number; blockSize?: number | undefined },
  ): FileInode {
    let resolved = this.resolve(user, path);
    const { target } = resolved;
    if (target?.type === "DIRECTORY") {
      throw new RemoteException(
        "FileAlreadyExistsException",
        `${resolved.path} already exists as a directory`,
      );
    }
    if (target && !options.overwrite) {
      throw new RemoteException(
        "FileAlreadyExistsException",
        `${resolved.path} for client 127.0.0.1 already exists`,
      );
    }
    if (resolved.parts.length === 0) throw new RemoteException("InvalidPathException", "Invalid path name /");
    if (!resolved.parent) {
      // WebHDFS CREATE makes missing parents (its createparent parameter defaults to true).
      this.mkdirs(user, pathOf(resolved.parts, resolved.parts.length - 1));
      resolved = this.resolve(user, path);
    }
    const parent = resolved.parent as DirectoryInode;
    const parentPath = pathOf(resolved.parts, resolved.parts.length - 1);
    this.check(user, parent, parentPath, "WRITE");
    if (target) {
      this.checkStickyBit(user, parent, parentPath, target, resolved.path);
      // The old bytes go in the background, as HDFS invalidates replaced blocks after the namespace change.
      void Promise.all(this.discardBlobs(target));
    }
    const name = resolved.parts.at(-1) as string;
    const now = Date.now();
    const fileId = this.nextFileId++;
    const file: FileInode = {
      type: "FILE",
      name,
      owner: user,
      // HDFS gives a new inode its parent's group (BSD rule), not the creator's primary group.
      group: parent.group,
      permission: options.permission,
      modificationTime: now,
      accessTime: now,
      fileId,
      length: 0,
      blockSize: options.blockSize ?? this.options.blockSize ?? DEFAULT_BLOCK_SIZE,
      blob: join(this.dataDirectory, `blk_${fileId}`),
    };
    parent.children.set(name, file);
    parent.modificationTime = now;
    return file;
  }

  openForRead(user: string, path: string): FileInode {
    const resolved = this.resolve(user, path);
    const { target } = resolved;
    if (!target) throw new RemoteException("FileNotFoundException", `File does not exist: ${resolved.path}`);
    if (target.type !== "FILE")
      throw new RemoteException("FileNotFoundException", `Path is not a file: ${resolved.path}`);
    this.check(user, target, resolved.path, "READ");
    target.accessTime = Date.now();
    return target;
  }

  /** The pre-HDFS-2 rename: answers false (not an error) when the source is missing or the target is taken. */
  rename(user: string, source: string, destination: string): boolean {
    const from = this.resolve(user, source);
    let to = this.resolve(user, destination);
    // Renaming onto an existing directory moves the source into it.
    if (to.target?.type === "DIRECTORY" && from.parts.length > 0) {
      to = this.resolve(user, `${to.path}/${from.parts.at(-1)}`);
    }
    if (to.path === from.path || to.path.startsWith(`${from.path}/`)) {
      if (to.path === from.path) return from.target !== undefined;
      throw new RemoteException(
        "IOException",
        `Rename destination ${to.path} is a directory or file under source ${from.path}`,
      );
    }
    if (from.parent) this.check(user, from.parent, pathOf(from.parts, from.parts.length - 1), "WRITE");
    const toAncestor = to.parent
      ? { inode: to.parent, path: pathOf(to.parts, to.parts.length - 1) }
      : this.deepestExisting(to);
    this.check(user, toAncestor.inode, toAncestor.path, "WRITE");
    if (!from.target || !from.parent || to.target || !to.parent) return false;
    const fromParentPath = pathOf(from.parts, from.parts.length - 1);
    this.checkStickyBit(user, from.parent, fromParentPath, from.target, from.path);
    const name = to.parts.at(-1) as string;
    from.parent.children.delete(from.target.name);
    from.target.name = name;
    to.parent.children.set(name, from.target);
    from.parent.modificationTime = to.parent.modificationTime = Date.now();
    return true;
  }

  /**
   * The rename of `FileContext` (ClientProtocol.rename2, WebHDFS RENAME with `renameoptions`): every failure is
   * an exception, and with `overwrite` an existing destination (a file, or an empty directory for a directory) is
   * replaced in the same step, so no reader ever finds the path missing.
   */
  async renameWithOptions(
    user: string,
    source: string,
    destination: string,
    overwrite: boolean,
  ): Promise<void> {
    const from = this.resolve(user, source);
    const to = this.resolve(user, destination);
    if (to.parts.length === 0)
      throw new RemoteException("IOException", "rename destination cannot be the root");
    if (!from.target || !from.parent)
      throw new RemoteException("FileNotFoundException", `rename source ${from.path} is not found.`);
    if (to.path.startsWith(`${from.path}/`)) {
      throw new RemoteException(
        "IOException",
        `Rename destination ${to.path} is a directory or file under source ${from.path}`,
      );
    }
    if (to.path === from.path) {
      throw new RemoteException(
        "FileAlreadyExistsException",
        `The source ${from.path} and destination ${to.path} are the same`,
      );
    }
    const fromParentPath = pathOf(from.parts, from.parts.length - 1);
    this.check(user, from.parent, fromParentPath, "WRITE");
    this.checkStickyBit(user, from.parent, fromParentPath, from.target, from.path);
    const replaced = to.target;
    if (replaced) {
      if ((replaced.type === "DIRECTORY") !== (from.target.type === "DIRECTORY")) {
        throw new RemoteException(
          "IOException",
          `Source ${from.path} and destination ${to.path} must both be directories`,
        );
      }
      if (!overwrite)
        throw new RemoteException(
          "FileAlreadyExistsException",
          `rename destination ${to.path} already exists`,
        );
      if (replaced.type === "DIRECTORY" && replaced.children.size > 0)
        throw new RemoteException("IOException", `rename destination directory is not empty: ${to.path}`);
    }
    if (!to.parent) {
      const deepest = to.chain.at(-1) as Inode;
      if (deepest.type !== "DIRECTORY" && to.chain.length === to.parts.length) {
        throw new RemoteException(
          "ParentNotDirectoryException",
          `rename destination parent ${to.path} is a file.`,
        );
      }
      throw new RemoteException("FileNotFoundException", `rename destination parent ${to.path} not found.`);
    }
    const toParentPath = pathOf(to.parts, to.parts.length - 1);
    this.check(user, to.parent, toParentPath, "WRITE");
    if (replaced) this.checkStickyBit(user, to.parent, toParentPath, replaced, to.path);
    const name = to.parts.at(-1) as string;
    from.parent.children.delete(from.target.name);
    from.target.name = name;
    to.parent.children.set(name, from.target);
    from.parent.modificationTime = to.parent.modificationTime = Date.now();
    // The replaced file's blocks go after the namespace change, as HDFS invalidates them.
    if (replaced) await Promise.all(this.discardBlobs(replaced));
  }

  async delete(user: string, path: string, recursive: boolean): Promise<boolean> {
    const resolved = this.resolve(user, path);
    const { target, parent } = resolved;
    if (!target) return false;
    if (!recursive && target.type === "DIRECTORY" && target.children.size > 0) {
      throw new RemoteException(
        "PathIsNotEmptyDirectoryException",
        `\`${resolved.path} is non empty': Directory is not empty`,
      );
    }
    // HDFS refuses to delete the root and answers false.
    if (!parent) return false;
    const parentPath = pathOf(resolved.parts, resolved.parts.length - 1);
    this.check(user, parent, parentPath, "WRITE");
    this.checkStickyBit(user, parent, parentPath, target, resolved.path);
    this.checkSubtree(user, target, resolved.path);
    parent.children.delete(target.name);
    parent.modificationTime = Date.now();
    await Promise.all(this.discardBlobs(target));
    return true;
  }

  private seed(directory: SeedDirectory): void {
    const { superuser } = this.options;
    this.mkdirs(superuser, directory.path);
    const inode = this.resolve(superuser, directory.path).target as DirectoryInode;
    inode.owner = directory.owner;
    inode.group = directory.group ?? inode.group;
    inode.permission = directory.permission ?? 0o755;
  }

  private newDirectory(name: string, owner: string, group: string, permission: number): DirectoryInode {
    const now = Date.now();
    const fileId = this.nextFileId++;
    return {
      type: "DIRECTORY",
      name,
      owner,
      group,
      permission,
      modificationTime: now,
      accessTime: 0,
      fileId,
      children: new Map(),
    };
  }

  private statusOf(inode: Inode, pathSuffix: string): HdfsFileStatus {
    const file = inode.type === "FILE";
    return {
      accessTime: inode.accessTime,
      blockSize: file ? inode.blockSize : 0,
      childrenNum: file ? 0 : inode.children.size,
      fileId: inode.fileId,
      group: inode.group,
      length: file ? inode.length : 0,
      modificationTime: inode.modificationTime,
      owner: inode.owner,
      pathSuffix,
      permission: inode.permission.toString(8),
      replication: file ? 1 : 0,
      storagePolicy: 0,
      type: inode.type,
    };
  }

  /** Resolves as far as the path exists, checking x on every existing ancestor on the way (HDFS traverse). */
  private resolve(user: string, path: string): Resolved {
    const parts = splitPath(path);
    const chain: Inode[] = [this.root];
    for (const part of parts) {
      const last = chain.at(-1) as Inode;
      if (last.type !== "DIRECTORY") break;
      this.check(user, last, pathOf(parts, chain.length - 1), "EXECUTE");
      const child = last.children.get(part);
      if (!child) break;
      chain.push(child);
    }
    const parentInode = parts.length > 0 ? chain[parts.length - 1] : undefined;
    return {
      path: pathOf(parts, parts.length),
      parts,
      chain,
      target: chain.length === parts.length + 1 ? chain.at(-1) : undefined,
      parent: parentInode?.type === "DIRECTORY" ? parentInode : undefined,
    };
  }

  /** The last existing directory on the way to a missing path; a file there is a ParentNotDirectoryException. */
  private deepestExisting(resolved: Resolved): { inode: DirectoryInode; path: string } {
    const inode = resolved.chain.at(-1) as Inode;
    const path = pathOf(resolved.parts, resolved.chain.length - 1);
    if (inode.type !== "DIRECTORY") {
      throw new RemoteException("ParentNotDirectoryException", `Parent path is not a directory: ${path}`);
    }
    return { inode, path };
  }

  private isSuperuser(user: string): boolean {
    return user === this.options.superuser || this.inGroup(user, this.options.supergroup);
  }

  private inGroup(user: string, group: string): boolean {
    return this.options.groups[user]?.includes(group) ?? false;
  }

  private check(user: string, inode: Inode, path: string, access: Access): void {
    if (this.isSuperuser(user)) return;
    const shift = inode.owner === user ? 6 : this.inGroup(user, inode.group) ? 3 : 0;
    const granted = (inode.permission >> shift) & 7;
    if ((granted & accessBits[access]) !== accessBits[access]) {
      throw new RemoteException(
        "AccessControlException",
        `Permission denied: user=${user}, access=${access}, inode=${describeInode(path, inode)}`,
      );
    }
  }

  private checkStickyBit(
    user: string,
    parent: DirectoryInode,
    parentPath: string,
    inode: Inode,
    path: string,
  ): void {
    if (!(parent.permission & STICKY) || this.isSuperuser(user)) return;
    if (user === parent.owner || user === inode.owner) return;
    throw new RemoteException(
      "AccessControlException",
      `Permission denied by sticky bit: user=${user}, path=${describeInode(path, inode)}, parent=${describeInode(parentPath, parent)}`,
    );
  }

  /** A recursive delete needs rwx on every non-empty directory below (HDFS checks subAccess ALL). */
  private checkSubtree(user: string, inode: Inode, path: string): void {
    if (inode.type !== "DIRECTORY" || inode.children.size === 0) return;
    this.check(user, inode, path, "ALL");
    for (const [name, child] of inode.children) this.checkSubtree(user, child, `${path}/${name}`);
  }

  private discardBlobs(inode: Inode): Promise<void>[] {
    if (inode.type === "FILE") return [unlink(inode.blob).catch(() => undefined)];
    return [...inode.children.values()].flatMap((child) => this.discardBlobs(child));
  }
}
