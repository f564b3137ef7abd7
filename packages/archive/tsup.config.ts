import { packageBuild } from "../../tsup.shared.js";

// The compression worker is its own entry: worker threads load it by URL next to index.js.
export default packageBuild({ entry: ["src/index.ts", "src/compression-worker.ts"] });
