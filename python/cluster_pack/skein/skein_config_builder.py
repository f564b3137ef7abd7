"""The files, script and environment that run a module on YARN, from ``cluster-pack config yarn --json``."""
from __future__ import annotations

import os
import tempfile
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from cluster_pack._executable import run_json
from cluster_pack.uploader import upload_env

# criteo's containers get these: skein clients started by the job find their credentials in ./.skein.
_CONTAINER_ENV = {"SKEIN_CONFIG": "./.skein", "GIT_PYTHON_REFRESH": "quiet"}


class SkeinConfig(NamedTuple):
    """What a ``skein.Service`` needs: its script, its files (name -> source) and its environment."""

    script: str
    files: Dict[str, str]
    env: Dict[str, str]


def build(
    module_name: str,
    args: Optional[List[Any]] = None,
    package_path: Optional[str] = None,
    additional_files: Optional[List[str]] = None,
    tmp_dir: str = tempfile.gettempdir(),
    process_logs: Optional[Callable[[str], Any]] = None,
    allow_large_pex: bool = False,
) -> SkeinConfig:
    """criteo's ``build``: the SkeinConfig that runs ``module_name`` (or a ``.py`` script) in the environment.

    :param module_name: the module to run (``python -m``), or a script ending in .py
    :param args: the module's arguments
    :param package_path: the archive; None uploads this environment first (``upload_env``)
    :param additional_files: more local or remote files, localized under their base name
    :param tmp_dir: accepted for compatibility; nothing is written locally
    :param process_logs: not supported (it needs pickled functions shipped to the container)
    :param allow_large_pex: with package_path None, upload a large pex (``.pex.zip``)
    """
    if process_logs is not None:
        raise ValueError("process_logs is not supported: tee the job's output to a file of your own instead")
    service = _single_service(_spec_dict(module_name, args, package_path, additional_files, allow_large_pex))
    files = {name: file["source"] for name, file in service["files"].items()}
    return SkeinConfig(service["script"], files, dict(service["env"]))


def build_spec(
    module_name: str,
    args: Optional[List[Any]] = None,
    package_path: Optional[str] = None,
    additional_files: Optional[List[str]] = None,
    allow_large_pex: bool = False,
) -> Any:
    """The whole application: a ``skein.ApplicationSpec`` when skein is importable, else its dict."""
    spec = _spec_dict(module_name, args, package_path, additional_files, allow_large_pex)
    try:
        import skein  # type: ignore[import-not-found]
    except ImportError:
        return spec
    return skein.ApplicationSpec.from_dict(spec)


def _spec_dict(
    module_name: str,
    args: Optional[List[Any]],
    package_path: Optional[str],
    additional_files: Optional[List[str]],
    allow_large_pex: bool,
) -> Dict[str, Any]:
    """``cluster-pack config yarn --json`` for a module, with ``additional_files`` added to its service."""
    if not package_path:
        package_path, _ = upload_env(allow_large_pex=allow_large_pex)
    entry_point = ["--script", module_name] if module_name.endswith(".py") else ["--module", module_name]
    command = ["config", "yarn", *entry_point, "--package-path", package_path]
    for name, value in _CONTAINER_ENV.items():
        command += ["--env", f"{name}={value}"]
    # Each argument reaches the module as is (quoted), where criteo's script let the shell split them.
    spec = run_json([*command, "--", *(str(arg) for arg in args or [])])
    service = _single_service(spec)
    for path in additional_files or []:
        service["files"][os.path.basename(path)] = {"source": path}
    return spec


def _single_service(spec: Dict[str, Any]) -> Dict[str, Any]:
    services = list(spec["services"].values())
    if len(services) != 1:
        raise ValueError(f"expected one service in the YARN spec, got {len(services)}")
    return services[0]
