/**
 * A skein ApplicationSpec file as skein itself reads it, and skein's rules for it, written here from skein's
 * documentation and `skein/model.py` (jcrist/skein), independently of @cluster-pack/yarn's own validation.
 *
 * skein is not installable offline, so the reading is done the way `ApplicationSpec.from_file` does it: `json.loads`
 * for JSON and PyYAML's `yaml.safe_load` for YAML (YAML 1.1: a plain `on`, `no` or `1:30` is a bool or an int
 * there). The result keeps Python's types, so that a string that came back as a bool is seen as one.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execute } from "./execute.js";
import { debianPython } from "./python.js";

/** A value as Python holds it after loading the file: `{ str: "x" }`, `{ int: 1 }`, `{ dict: [[key, value]] }`… */
export type PyValue =
  | { str: string }
  | { int: number }
  | { float: number }
  | { bool: boolean }
  | { null: null }
  | { list: PyValue[] }
  | { dict: [PyValue, PyValue][] }
  /** Anything else PyYAML builds (a `datetime.date` from `2024-01-01`, bytes…). */
  | { other: string; repr: string };

const reader = `import json, sys
path, format = sys.argv[1:3]
with open(path) as f:
    data = f.read()
if format == "json":
    document = json.loads(data)
else:
    try:
        import yaml
    except ImportError:
        sys.exit("PyYAML, which skein reads specs with, is not installed for %s (Debian: python3-yaml)" % sys.executable)
    document = yaml.safe_load(data)

def typed(value):
    if isinstance(value, bool): return {"bool": value}
    if isinstance(value, int): return {"int": value}
    if isinstance(value, float): return {"float": value}
    if isinstance(value, str): return {"str": value}
    if value is None: return {"null": None}
    if isinstance(value, list): return {"list": [typed(item) for item in value]}
    if isinstance(value, dict): return {"dict": [[typed(k), typed(v)] for k, v in value.items()]}
    return {"other": type(value).__name__, "repr": repr(value)}

print(json.dumps(typed(document)))
`;

/**
 * Reads a spec file's text as skein's `ApplicationSpec.from_file` does (`spec.json` with `json.loads`, `spec.yaml`
 * with `yaml.safe_load`), with Debian's Python and its PyYAML.
 */
export async function readSpecAsSkein(text: string, format: "yaml" | "json", python = debianPython) {
  const directory = await mkdtemp(join(tmpdir(), "cp-skein-spec-"));
  try {
    const path = join(directory, `spec.${format}`);
    await writeFile(path, text);
    const outcome = await execute(python, ["-c", reader, path, format]);
    if (outcome.code !== 0) throw new Error(`reading spec.${format} as skein does failed: ${outcome.stderr}`);
    return JSON.parse(outcome.stdout) as PyValue;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** The value as plain JSON data (ints and floats both numbers), to compare with what was rendered. */
export function plainValue(value: PyValue): unknown {
  if ("dict" in value)
    return Object.fromEntries(value.dict.map(([key, item]) => [String(plainValue(key)), plainValue(item)]));
  if ("list" in value) return value.list.map(plainValue);
  if ("other" in value) return `<${value.other} ${value.repr}>`;
  return Object.values(value)[0];
}

const typeName = (value: PyValue) => {
  const [kind] = Object.keys(value);
  return "other" in value ? value.other : kind === "null" ? "None" : kind;
};
const shown = (value: PyValue) =>
  "other" in value ? value.repr : `${typeName(value)} ${JSON.stringify(plainValue(value))}`;

// skein/model.py: ApplicationSpec.__slots__, Service.__slots__, Master._params, Resources._params, File._params,
// ACLs.__slots__; the enums FileType, FileVisibility and LogLevel (read case-insensitively).
const SPEC_KEYS = [
  "services",
  "master",
  "name",
  "queue",
  "user",
  "node_label",
  "tags",
  "file_systems",
  "acls",
  "max_attempts",
];
const SERVICE_KEYS = [
  "resources",
  "script",
  "instances",
  "files",
  "env",
  "depends",
  "max_restarts",
  "allow_failures",
  "node_label",
  "nodes",
  "racks",
  "relax_locality",
];
const MASTER_KEYS = ["resources", "script", "files", "env", "log_level", "log_config", "security"];
const RESOURCES_KEYS = ["memory", "vcores", "gpus", "fpgas"];
const FILE_KEYS = ["source", "type", "visibility", "size", "timestamp"];
const ACLS_KEYS = ["enable", "view_users", "view_groups", "modify_users", "modify_groups", "ui_users"];
const FILE_TYPES = ["FILE", "ARCHIVE"];
const FILE_VISIBILITIES = ["APPLICATION", "PUBLIC", "PRIVATE"];
const LOG_LEVELS = ["ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"];

// skein's parse_memory: a number of MiB, or a number with a unit (decimal or binary, the trailing B optional).
const BYTE_SIZES: Record<string, number> = {
  "": 2 ** 20,
  b: 1,
  ...Object.fromEntries(
    [
      ["k", 10 ** 3, 2 ** 10],
      ["m", 10 ** 6, 2 ** 20],
      ["g", 10 ** 9, 2 ** 30],
      ["t", 10 ** 12, 2 ** 40],
      ["p", 10 ** 15, 2 ** 50],
    ].flatMap(([unit, decimal, binary]) => [
      [`${unit}`, decimal],
      [`${unit}b`, decimal],
      [`${unit}i`, binary],
      [`${unit}ib`, binary],
    ]),
  ),
};

/** MiB as skein's `parse_memory` computes them, or why it refuses the value. */
function memoryMiB(value: PyValue): number | string {
  if ("int" in value) return value.int;
  if ("float" in value) return Math.ceil(value.float);
  if (!("str" in value)) return `must be an int or a size such as "2 GiB", got ${shown(value)}`;
  const text = value.str.replaceAll(" ", "");
  const [, number = "", unit = ""] = /^(\d.*?)([a-zA-Z]*)$/.exec(text) ?? [undefined, "1", text];
  const multiplier = BYTE_SIZES[unit.toLowerCase()];
  if (text === "" || multiplier === undefined || Number.isNaN(Number(number)))
    return `cannot be read as a size: ${JSON.stringify(value.str)}`;
  return Math.ceil((Number(number) * multiplier) / 2 ** 20);
}

/**
 * What skein would refuse in a loaded spec (`ApplicationSpec.from_dict`), one line per problem, `where: what`.
 * Stricter than Python in one way: a bool is refused where skein wants an int (Python's bool is an int), as a
 * bool there is always a rendering mistake.
 */
export function skeinSpecProblems(document: PyValue): string[] {
  const problems: string[] = [];
  const fail = (where: string, message: string) => {
    problems.push(`${where}: ${message}`);
  };

  /** The mapping's entries by string key; a non-string key or a value that is not a mapping is reported. */
  const mapping = (where: string, value: PyValue | undefined, keys?: readonly string[]) => {
    if (value === undefined) return new Map<string, PyValue>();
    if (!("dict" in value)) {
      fail(where, `must be a mapping, got ${shown(value)}`);
      return new Map<string, PyValue>();
    }
    const entries = new Map<string, PyValue>();
    for (const [key, item] of value.dict) {
      if (!("str" in key)) fail(where, `keys must be strings, got ${shown(key)}`);
      else if (keys && !keys.includes(key.str)) fail(`${where}.${key.str}`, "not a field skein knows");
      else entries.set(key.str, item);
    }
    return entries;
  };
  const string = (where: string, value: PyValue | undefined, options: { required?: boolean } = {}) => {
    if (value === undefined) {
      if (options.required) fail(where, "required");
      return undefined;
    }
    if (!("str" in value)) fail(where, `must be a str, got ${shown(value)}`);
    return "str" in value ? value.str : undefined;
  };
  const integer = (where: string, value: PyValue | undefined, min: number) => {
    if (value === undefined) return;
    if (!("int" in value)) fail(where, `must be an int, got ${shown(value)}`);
    else if (value.int < min) fail(where, `must be >= ${min}, got ${value.int}`);
  };
  const boolean = (where: string, value: PyValue | undefined) => {
    if (value !== undefined && !("bool" in value)) fail(where, `must be a bool, got ${shown(value)}`);
  };
  const strings = (where: string, value: PyValue | undefined) => {
    if (value === undefined) return [];
    if (!("list" in value)) {
      fail(where, `must be a list of str, got ${shown(value)}`);
      return [];
    }
    return value.list.flatMap((item, index) => string(`${where}[${index}]`, item) ?? []);
  };
  const oneOf = (where: string, value: PyValue | undefined, allowed: readonly string[]) => {
    const text = string(where, value);
    if (text !== undefined && !allowed.includes(text.toUpperCase()))
      fail(where, `must be one of ${allowed.join(", ")} (any case), got ${JSON.stringify(text)}`);
  };
  const environment = (where: string, value: PyValue | undefined) => {
    for (const [name, item] of mapping(where, value)) string(`${where}.${name}`, item);
  };
  // Resources of a container request: memory and vcores required, at least 1 each.
  const resources = (where: string, value: PyValue | undefined) => {
    if (value === undefined) {
      fail(where, "required");
      return;
    }
    const fields = mapping(where, value, RESOURCES_KEYS);
    const memory = fields.get("memory");
    if (memory === undefined) fail(`${where}.memory`, "required");
    else {
      const mib = memoryMiB(memory);
      if (typeof mib === "string") fail(`${where}.memory`, mib);
      else if (mib < 1) fail(`${where}.memory`, `must be >= 1 MiB, got ${mib}`);
    }
    if (!fields.has("vcores")) fail(`${where}.vcores`, "required");
    integer(`${where}.vcores`, fields.get("vcores"), 1);
    integer(`${where}.gpus`, fields.get("gpus"), 0);
    integer(`${where}.fpgas`, fields.get("fpgas"), 0);
  };
  const file = (where: string, value: PyValue) => {
    if ("str" in value) return; // a bare source, its type inferred from the extension
    const fields = mapping(where, value, FILE_KEYS);
    string(`${where}.source`, fields.get("source"), { required: true });
    const type = fields.get("type");
    if (!(type && "str" in type && type.str === "infer")) oneOf(`${where}.type`, type, FILE_TYPES);
    oneOf(`${where}.visibility`, fields.get("visibility"), FILE_VISIBILITIES);
    integer(`${where}.size`, fields.get("size"), 0);
    integer(`${where}.timestamp`, fields.get("timestamp"), 0);
  };
  const files = (where: string, value: PyValue | undefined) => {
    for (const [name, item] of mapping(where, value)) {
      // YARN links each into the working directory: a file name, "./" allowed.
      if (name.replace(/^\.\//, "").includes("/"))
        fail(`${where}.${name}`, "must be a file name, without directories");
      file(`${where}.${name}`, item);
    }
  };

  // from_dict stops at once when the document is not a mapping.
  if (!("dict" in document)) return [`spec: must be a mapping, got ${shown(document)}`];
  const spec = mapping("spec", document, SPEC_KEYS);
  for (const field of ["name", "queue", "user", "node_label"]) string(field, spec.get(field));
  strings("tags", spec.get("tags"));
  strings("file_systems", spec.get("file_systems"));
  integer("max_attempts", spec.get("max_attempts"), 1);

  const acls = mapping("acls", spec.get("acls"), ACLS_KEYS);
  boolean("acls.enable", acls.get("enable"));
  for (const field of ACLS_KEYS.slice(1)) strings(`acls.${field}`, acls.get(field));

  const master = mapping("master", spec.get("master"), MASTER_KEYS);
  if (master.has("resources")) resources("master.resources", master.get("resources"));
  const masterScript = string("master.script", master.get("script"));
  files("master.files", master.get("files"));
  environment("master.env", master.get("env"));
  oneOf("master.log_level", master.get("log_level"), LOG_LEVELS);
  const logConfig = master.get("log_config");
  if (logConfig) file("master.log_config", logConfig);

  const services = mapping("services", spec.get("services"));
  if (services.size === 0 && !masterScript)
    fail("services", "there must be at least one service (or a master script)");
  const depends = new Map<string, string[]>();
  for (const [name, value] of services) {
    const where = `services.${name}`;
    const service = mapping(where, value, SERVICE_KEYS);
    resources(`${where}.resources`, service.get("resources"));
    const script = string(`${where}.script`, service.get("script"), { required: true });
    if (script === "") fail(`${where}.script`, "a script must be provided");
    integer(`${where}.instances`, service.get("instances"), 0);
    integer(`${where}.max_restarts`, service.get("max_restarts"), -1);
    boolean(`${where}.allow_failures`, service.get("allow_failures"));
    boolean(`${where}.relax_locality`, service.get("relax_locality"));
    string(`${where}.node_label`, service.get("node_label"));
    strings(`${where}.nodes`, service.get("nodes"));
    strings(`${where}.racks`, service.get("racks"));
    files(`${where}.files`, service.get("files"));
    environment(`${where}.env`, service.get("env"));
    const needs = strings(`${where}.depends`, service.get("depends"));
    for (const dependency of needs)
      if (!services.has(dependency))
        fail(`${where}.depends`, `unknown service ${JSON.stringify(dependency)}`);
    depends.set(name, needs);
  }
  // skein's check_no_cycles: the first cycle found is reported.
  const done = new Set<string>();
  const cycleFrom = (name: string, path: string[]): string[] | undefined => {
    if (path.includes(name)) return [...path.slice(path.indexOf(name)), name];
    if (done.has(name)) return undefined;
    for (const dependency of depends.get(name) ?? []) {
      const cycle = cycleFrom(dependency, [...path, name]);
      if (cycle) return cycle;
    }
    done.add(name);
    return undefined;
  };
  for (const name of depends.keys()) {
    const cycle = cycleFrom(name, []);
    if (cycle) {
      fail("services", `dependency cycle ${cycle.join(" -> ")}`);
      break;
    }
  }
  return problems;
}
