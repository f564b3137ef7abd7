import { packageBuild } from "../../tsup.shared.js";

// The conformance suite is a subpath of its own; vitest comes from the adapter author's project.
export default packageBuild({ entry: ["src/index.ts", "src/testing.ts"], external: ["vitest"] });
