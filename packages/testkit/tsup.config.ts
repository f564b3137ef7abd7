import { packageBuild } from "../../tsup.shared.js";

// s3rver-process runs in a child process of its own (see startS3rver).
export default packageBuild({ entry: ["src/index.ts", "src/s3rver-process.ts"] });
