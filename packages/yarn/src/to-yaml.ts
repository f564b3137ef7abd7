import { stringify } from "yaml";
import type { ApplicationSpec } from "./application-spec.js";

/** The spec as the YAML file `skein application submit spec.yaml` reads; scripts stay literal blocks. */
export const toYaml = (spec: ApplicationSpec) => stringify(spec, { lineWidth: 0 });

/** The spec as JSON, which skein reads too (`spec.json`). */
export const toJson = (spec: ApplicationSpec) => `${JSON.stringify(spec, null, 2)}\n`;
