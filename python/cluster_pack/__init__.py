"""criteo's cluster-pack API, answered by the cluster-pack executable (run with ``--json``)."""
from cluster_pack._executable import ClusterPackError
from cluster_pack.packaging import (
    CONDA_PACKER,
    EDITABLE_PACKAGES_INDEX,
    PEX_PACKER,
    UNPACKED_ENV_NAME,
    VENV_PACKER,
    Packer,
    PythonEnvDescription,
    detect_packer_from_file,
    get_default_fs,
    get_editable_requirements,
    get_non_editable_requirements,
    get_pyenv_usage_from_archive,
)
from cluster_pack.uploader import upload_env, upload_zip

__all__ = [
    "CONDA_PACKER",
    "EDITABLE_PACKAGES_INDEX",
    "PEX_PACKER",
    "UNPACKED_ENV_NAME",
    "VENV_PACKER",
    "ClusterPackError",
    "Packer",
    "PythonEnvDescription",
    "detect_packer_from_file",
    "get_default_fs",
    "get_editable_requirements",
    "get_non_editable_requirements",
    "get_pyenv_usage_from_archive",
    "upload_env",
    "upload_zip",
]
