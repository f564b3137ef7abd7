import { defineConfig } from "tsup";

export default defineConfig({
  // s3rver-process runs in a child process of its own (see startS3rver).
  entry: ["src/index.ts", "src/s3rver-process.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  target: "node20",
});
