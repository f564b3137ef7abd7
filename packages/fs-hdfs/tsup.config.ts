import { packageBuild } from "../../tsup.shared.js";

// The optional GSSAPI addon is loaded at run time, only when Kerberos is on.
export default packageBuild({ external: ["kerberos"] });
