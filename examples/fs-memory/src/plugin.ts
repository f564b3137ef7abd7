import { defineFileSystemPlugin } from "@cluster-pack/fs";
import { memoryFileSystem } from "./memory-file-system.js";

/** `memory://<store>/<path>`: the store name is the URL host, so different names never share files. */
export const fileSystemPlugin = defineFileSystemPlugin({
  schemes: ["memory"],
  factory: (uri) => ({
    fs: memoryFileSystem(uri.host || "default"),
    path: decodeURIComponent(uri.pathname) || "/",
  }),
});
