import type { Distribution, DistributionProblem } from "./distribution.js";
import { computeFingerprint } from "./fingerprint.js";
import { detectInterpreter, type FindInterpreterOptions, type Interpreter } from "./interpreter.js";
import { type ListDistributionsOptions, listDistributions } from "./list-distributions.js";
import { buildRequirementSet, type Requirement, type RequirementSetOptions } from "./requirement-set.js";
import type { TargetPlatform } from "./target-platform.js";
import { type CompatibilityWarning, checkPlatformCompatibility } from "./wheel-compatibility.js";

export interface InspectEnvironmentOptions
  extends FindInterpreterOptions,
    ListDistributionsOptions,
    RequirementSetOptions {
  /** The platform the environment will run on; default the interpreter's own. */
  target?: TargetPlatform;
}

/** Everything packing needs to know about an environment, from one probe and one read of its site-packages. */
export interface EnvironmentModel {
  interpreter: Interpreter;
  distributions: Distribution[];
  problems: DistributionProblem[];
  /** What would be packed (editables excluded: they ship as separate zips). */
  requirements: Requirement[];
  fingerprint: string;
  compatibilityWarnings: CompatibilityWarning[];
}

export async function inspectEnvironment(options: InspectEnvironmentOptions = {}): Promise<EnvironmentModel> {
  const interpreter = await detectInterpreter(options);
  const { distributions, problems } = await listDistributions(interpreter, options);
  const requirements = await buildRequirementSet(distributions, options);
  const packed = requirements.flatMap((r) => (r.distribution ? [r.distribution] : []));
  return {
    interpreter,
    distributions,
    problems,
    requirements,
    fingerprint: await computeFingerprint(interpreter, requirements),
    compatibilityWarnings: checkPlatformCompatibility(packed, options.target ?? interpreter.target),
  };
}
