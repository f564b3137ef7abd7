// Time to read an environment (list distributions, build the requirement set, fingerprint it) against what a
// Python tool pays for the same answer: importlib.metadata and `pip list`, run on the same directories now.
// Not a test: prints a table. Run `pnpm --filter @cluster-pack/python-env build` first.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildRequirementSet,
  computeFingerprint,
  probeInterpreter,
  readDistributions,
} from "../dist/index.js";

const runs = 5;
const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timeIt(action) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await action();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** 250 distributions of 100 files each, written as pip would: the files, METADATA, WHEEL, RECORD. */
async function syntheticEnvironment(site, distributions = 250, filesEach = 100) {
  for (let d = 0; d < distributions; d++) {
    {
      const name = `synthetic_${d}`;
      const info = join(site, `${name}-1.0.${d}.dist-info`);
      await mkdir(join(site, name), { recursive: true });
      await mkdir(info, { recursive: true });
      const record = [];
      await Promise.all(
        Array.from({ length: filesEach }, async (_, f) => {
          const content = `VALUE = ${d * filesEach + f}\n`;
          await writeFile(join(site, name, `module_${f}.py`), content);
          record.push(
            `${name}/module_${f}.py,sha256=${Buffer.alloc(32, f).toString("base64url")},${content.length}`,
          );
        }),
      );
      record.push(`${name}-1.0.${d}.dist-info/RECORD,,`);
      await writeFile(join(info, "METADATA"), `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0.${d}\n`);
      await writeFile(join(info, "WHEEL"), "Wheel-Version: 1.0\nTag: py3-none-any\n");
      await writeFile(join(info, "INSTALLER"), "pip\n");
      await writeFile(join(info, "top_level.txt"), `${name}\n`);
      await writeFile(join(info, "RECORD"), `${record.join("\n")}\n`);
    }
  }
}

const machine = await probeInterpreter("python3");
const debian = await probeInterpreter("/usr/bin/python3");
const scratch = await mkdtemp(join(tmpdir(), "cp-bench-"));
const syntheticSite = join(scratch, "site-packages");
await syntheticEnvironment(syntheticSite);

const environments = [
  { label: `pyenv ${machine.version} site-packages`, interpreter: machine, sites: machine.sitePackages },
  { label: `Debian ${debian.version} dist-packages`, interpreter: debian, sites: debian.sitePackages },
  { label: "synthetic 25,000 files", interpreter: machine, sites: [syntheticSite] },
];

const rows = [];
for (const { label, interpreter, sites } of environments) {
  let summary;
  const ours = await timeIt(async () => {
    const { distributions } = await readDistributions(sites);
    const requirements = await buildRequirementSet(distributions);
    await computeFingerprint(interpreter, requirements);
    summary = {
      distributions: distributions.length,
      files: distributions.reduce((n, d) => n + (d.files?.length ?? 0), 0),
    };
  });
  const sitesLiteral = JSON.stringify(sites);
  const importlib = await timeIt(() =>
    execFileSync(machine.executable, [
      "-c",
      `import importlib.metadata; list(importlib.metadata.distributions(path=${sitesLiteral}))`,
    ]),
  );
  const pip = await timeIt(() =>
    execFileSync(
      machine.executable,
      ["-m", "pip", "list", "--format", "json", ...sites.flatMap((s) => ["--path", s])],
      {
        env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" },
      },
    ),
  );
  // The same answer as ours: names, versions and every RECORD entry.
  const importlibFiles = await timeIt(() =>
    execFileSync(machine.executable, [
      "-c",
      `import importlib.metadata as m; [(d.metadata["Name"], d.version, d.files) for d in m.distributions(path=${sitesLiteral})]`,
    ]),
  );
  rows.push({
    environment: label,
    distributions: summary.distributions,
    "RECORD entries": summary.files,
    "ours (ms)": ours.toFixed(1),
    "importlib list (ms)": importlib.toFixed(1),
    "importlib + files (ms)": importlibFiles.toFixed(1),
    "pip list (ms)": pip.toFixed(1),
    "importlib list / ours": (importlib / ours).toFixed(1),
    "importlib + files / ours": (importlibFiles / ours).toFixed(1),
    "pip list / ours": (pip / ours).toFixed(1),
  });
}
await rm(scratch, { recursive: true, force: true });

console.log(
  `median of ${runs} runs; ours = list + requirement set + fingerprint, in-process (no interpreter start)`,
);
console.table(rows);
