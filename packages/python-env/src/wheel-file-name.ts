import { PythonEnvError } from "./errors.js";
import { normalizeName } from "./normalize-name.js";

/** What a wheel's file name says (PEP 427): `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`. */
export interface WheelFileName {
  /** As spelled in the file name (underscores for runs of `-_.`). */
  name: string;
  normalizedName: string;
  version: string;
  /** The compressed tag set, `cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64` (dotted sets kept). */
  tag: string;
}

/** Parses a wheel file name; anything else (an sdist, a stray file) is an INVALID_ARGUMENT error. */
export function parseWheelFileName(file: string): WheelFileName {
  const parts = file.endsWith(".whl") ? file.slice(0, -4).split("-") : [];
  if (parts.length !== 5 && parts.length !== 6)
    throw new PythonEnvError(
      "INVALID_ARGUMENT",
      "not a wheel file name (name-version-python-abi-platform.whl)",
      {
        location: file,
      },
    );
  const [name = "", version = ""] = parts;
  const [python, abi, platform] = parts.slice(-3);
  return { name, normalizedName: normalizeName(name), version, tag: `${python}-${abi}-${platform}` };
}

/** Source distributions as indexes and `--find-links` directories hold them. */
export const isSourceDistribution = (file: string) => /\.(tar\.gz|tar\.bz2|tar\.xz|tgz|zip|tar)$/i.test(file);
