export { clearMemoryStores, memoryFileSystem } from "./memory-file-system.js";
export { fileSystemPlugin, fileSystemPlugin as default } from "./plugin.js";
