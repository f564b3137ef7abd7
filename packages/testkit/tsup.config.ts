import { packageBuild } from "../../tsup.shared.js";

// s3rver-process runs in a child process of its own (see startS3rver). The kerberos addon (secure mode of the
// WebHDFS server) is loaded at run time, never bundled.
export default packageBuild({
  entry: ["src/index.ts", "src/s3rver-process.ts"],
  external: ["kerberos"],
});
