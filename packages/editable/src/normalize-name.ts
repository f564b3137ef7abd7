/** PEP 503: lowercase, and every run of `-`, `_`, `.` becomes one `-` (`Leg_Pkg` and `leg.pkg` are `leg-pkg`). */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}
