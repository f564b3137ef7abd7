import { packageBuild } from "../../tsup.shared.js";

// `main` is an entry of its own: the standalone build runs it from its own entry point.
export default packageBuild({
  entry: ["src/cli.ts", "src/main.ts"],
  dts: false,
});
