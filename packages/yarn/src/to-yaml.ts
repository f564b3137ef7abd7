import { Document, visit } from "yaml";
import type { ApplicationSpec } from "./application-spec.js";

/**
 * The spec as the YAML file `skein application submit spec.yaml` reads; scripts stay literal blocks. skein reads
 * it with PyYAML, a YAML 1.1 parser: written as 1.1, strings such as `on`, `no`, `1:30` or `2024-01-01` are quoted
 * and stay strings. PyYAML also takes a bare `=` for its "value" tag and refuses the file, so it is quoted too.
 */
export function toYaml(spec: ApplicationSpec): string {
  const document = new Document(spec, { version: "1.1" });
  visit(document, {
    Scalar(_, node) {
      if (node.value === "=") node.type = "QUOTE_DOUBLE";
    },
  });
  return document.toString({ lineWidth: 0 });
}

/** The spec as JSON, which skein reads too (`spec.json`). */
export const toJson = (spec: ApplicationSpec) => `${JSON.stringify(spec, null, 2)}\n`;
