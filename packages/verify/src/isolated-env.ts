/**
 * The environment an archive runs in: this process's, minus every variable that would let another Python setup
 * leak in (`PYTHONPATH`, `PYTHONHOME`, `PYTHONSTARTUP`, `PYTHONUSERBASE`, the zipapp's `PEX_*`, an active venv or
 * conda env). A node starts with none of them, and with them a passing check would prove nothing.
 */
export function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!/^(PYTHON|PEX_|CONDA_|VIRTUAL_ENV$|__PYVENV_LAUNCHER__$)/.test(name)) env[name] = value;
  return { ...env, ...extra };
}
