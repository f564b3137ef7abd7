import { packageBuild } from "../../tsup.shared.js";

export default packageBuild({
  entry: ["src/cli.ts"],
  dts: false,
  banner: { js: "#!/usr/bin/env node" },
});
