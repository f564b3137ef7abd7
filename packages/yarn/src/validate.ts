import { EnvUsageError } from "@cluster-pack/env-usage";
import type { ApplicationSpec, Resources, Service } from "./application-spec.js";

// The units skein's `parse_memory` reads (decimal and binary, with or without the trailing B); no unit means MiB.
const MEMORY = /^\d+(\.\d+)?\s*([kmgtp]i?b?|b)?$/i;

const FILE_TYPES = new Set(["archive", "file"]);
const VISIBILITIES = new Set(["application", "private", "public"]);

function checkInteger(value: number, min: number, where: string) {
  if (!Number.isInteger(value) || value < min)
    throw new EnvUsageError(`must be an integer ≥ ${min}, got ${JSON.stringify(value)}`, where);
}

export function validateResources(resources: Resources, where: string) {
  const { memory } = resources;
  const memoryOk =
    typeof memory === "number" ? Number.isFinite(memory) && memory > 0 : MEMORY.test(memory.trim());
  if (!memoryOk || parseFloat(String(memory)) <= 0)
    throw new EnvUsageError(
      `memory must be MiB or a size with a unit such as "2 GiB" or "512 MiB", got ${JSON.stringify(memory)}`,
      `${where}.memory`,
    );
  checkInteger(resources.vcores, 1, `${where}.vcores`);
  if (resources.gpus !== undefined) checkInteger(resources.gpus, 0, `${where}.gpus`);
  if (resources.fpgas !== undefined) checkInteger(resources.fpgas, 0, `${where}.fpgas`);
}

export function validateService(service: Service, where: string) {
  checkInteger(service.instances, 0, `${where}.instances`);
  checkInteger(service.max_restarts, -1, `${where}.max_restarts`);
  validateResources(service.resources, `${where}.resources`);
  if (service.script.trim() === "")
    throw new EnvUsageError("a service needs a script to run", `${where}.script`);
  for (const [target, file] of Object.entries(service.files)) {
    const at = `${where}.files.${target}`;
    // YARN links each resource into the working directory under this name: it cannot hold a directory.
    if (target === "" || target === "." || target === ".." || target.replace(/^\.\//, "").includes("/"))
      throw new EnvUsageError("a file's name in the container must be a plain file name, without '/'", at);
    if (file.source === "") throw new EnvUsageError("the source is empty", `${at}.source`);
    if (!FILE_TYPES.has(file.type))
      throw new EnvUsageError(`type must be archive or file, got ${JSON.stringify(file.type)}`, `${at}.type`);
    if (!VISIBILITIES.has(file.visibility))
      throw new EnvUsageError(
        `visibility must be application, private or public, got ${JSON.stringify(file.visibility)}`,
        `${at}.visibility`,
      );
  }
}

/** Checks what skein would refuse at submission, so a bad spec fails here with the field it concerns. */
export function validateApplicationSpec(spec: ApplicationSpec) {
  if (spec.name.trim() === "") throw new EnvUsageError("the application needs a name", "name");
  if (spec.queue.trim() === "") throw new EnvUsageError("the queue is empty", "queue");
  checkInteger(spec.max_attempts, 1, "max_attempts");
  const names = Object.keys(spec.services);
  if (names.length === 0 && !spec.master?.script)
    throw new EnvUsageError("an application needs at least one service (or a master script)", "services");
  if (spec.master?.resources) validateResources(spec.master.resources, "master.resources");
  for (const [name, service] of Object.entries(spec.services)) {
    validateService(service, `services.${name}`);
    for (const dependency of service.depends ?? [])
      if (!(dependency in spec.services))
        throw new EnvUsageError(
          `depends on "${dependency}", which is not a service of this application (${names.join(", ")})`,
          `services.${name}.depends`,
        );
  }
  const cycle = dependencyCycle(spec.services);
  if (cycle)
    throw new EnvUsageError(`services depend on each other in a cycle: ${cycle.join(" → ")}`, "services");
}

function dependencyCycle(services: Record<string, Service>): string[] | undefined {
  const done = new Set<string>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (path.includes(name)) return [...path.slice(path.indexOf(name)), name];
    if (done.has(name)) return undefined;
    for (const dependency of services[name]?.depends ?? []) {
      const cycle = visit(dependency, [...path, name]);
      if (cycle) return cycle;
    }
    done.add(name);
    return undefined;
  };
  for (const name of Object.keys(services)) {
    const cycle = visit(name, []);
    if (cycle) return cycle;
  }
  return undefined;
}
