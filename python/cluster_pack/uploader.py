"""Shipping an environment, as in criteo's ``cluster_pack.uploader``: the executable packs and uploads."""
from __future__ import annotations

from typing import Any, Collection, Dict, List, Optional, Tuple, Union

from cluster_pack._executable import environment_of_fs_args, run_json
from cluster_pack.packaging import PackerLike, interpreter_args, packer_name


def upload_env(
    package_path: Optional[str] = None,
    packer: Optional[PackerLike] = None,
    additional_packages: Optional[Dict[str, str]] = None,
    ignored_packages: Optional[Collection[str]] = None,
    only_packages: Optional[Collection[str]] = None,
    force_upload: bool = False,
    include_editable: bool = False,
    fs_args: Optional[Dict[str, Any]] = None,
    allow_large_pex: bool = False,
    include_pex_tools: bool = False,
    additional_repo: Optional[Union[str, List[str]]] = None,
    additional_indexes: Optional[List[str]] = None,
) -> Tuple[str, str]:
    """Packs this interpreter's environment and uploads it, unless the stored archive is current.

    :param package_path: where the archive goes (default: ``<default fs>/user/<user>/envs/<env name>.<ext>``)
    :param packer: PEX_PACKER, VENV_PACKER, CONDA_PACKER or a packer name (default: pex)
    :param additional_packages: name -> version to add or replace
    :param ignored_packages: installed packages to leave out
    :param only_packages: ship only these installed packages
    :param force_upload: pack and upload even when the stored archive is current
    :param include_editable: bake editable installs into the archive (they are always uploaded beside it)
    :param fs_args: S3 settings: ``key``, ``secret``, ``token``, ``client_kwargs={"endpoint_url": …}``
    :param allow_large_pex: a pex unpacked on the nodes (``.pex.zip``), for environments over 2 GiB
    :param include_pex_tools: not supported (the executable builds its pex without pex's tools)
    :param additional_repo: more package indexes for ``additional_packages``
    :param additional_indexes: local wheel directories for ``additional_packages``
    :return: (package_path, env_name)
    """
    if include_pex_tools:
        raise ValueError("include_pex_tools is not supported: cluster-pack builds pex files without pex's tools")
    name = packer_name(packer) if packer is not None else None
    # As in criteo, allow_large_pex only changes pex archives: they become the unpacked .pex.zip layout.
    if allow_large_pex and name in (None, "pex"):
        name = "pex.zip"
        # criteo turns a requested name.pex into name.pex.zip; the executable insists on the right extension.
        if package_path is not None and package_path.endswith(".pex"):
            package_path += ".zip"
    # --verbose: what is being done (inspecting, packing, uploading) as one line each on stderr, where a notebook
    # shows it; the progress bars are for terminals only.
    args = ["--verbose", "upload", *interpreter_args()]
    if name is not None:
        args += ["--packer", name]
    if package_path is not None:
        args += ["--package-path", package_path]
    args += _package_selection_args(additional_packages, ignored_packages, only_packages)
    if force_upload:
        args.append("--force")
    if include_editable:
        args.append("--include-editable")
    for repo in [additional_repo] if isinstance(additional_repo, str) else additional_repo or []:
        args += ["--extra-index-url", repo]
    for index in additional_indexes or []:
        args += ["--find-links", index]
    uploaded = run_json(args, environment_of_fs_args(fs_args))
    return uploaded["packagePath"], uploaded["envName"]


def upload_zip(
    zip_file: str,
    package_path: Optional[str] = None,
    force_upload: bool = False,
    fs_args: Optional[Dict[str, Any]] = None,
) -> str:
    """Uploads a prebuilt archive (a local file or an http(s) URL); returns where it went."""
    args = ["--verbose", "upload-zip", zip_file]
    if package_path is not None:
        args += ["--package-path", package_path]
    if force_upload:
        args.append("--force")
    return str(run_json(args, environment_of_fs_args(fs_args))["packagePath"])


def _package_selection_args(
    additional_packages: Optional[Dict[str, str]],
    ignored_packages: Optional[Collection[str]],
    only_packages: Optional[Collection[str]],
) -> List[str]:
    args: List[str] = []
    for name, version in (additional_packages or {}).items():
        args += ["--additional-packages", f"{name}=={version}"]
    for name in ignored_packages or []:
        args += ["--ignored-packages", name]
    # An empty only_packages means "ship nothing installed", unlike None.
    if only_packages is not None:
        args += ["--only-packages", ",".join(only_packages)]
    return args
