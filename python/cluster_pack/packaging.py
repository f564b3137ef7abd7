"""Packers and archive descriptions, as in criteo's ``cluster_pack.packaging``, answered by the executable."""
from __future__ import annotations

import os
import sys
from typing import Dict, List, NamedTuple, Union

from cluster_pack._executable import run_json

EDITABLE_PACKAGES_INDEX = "editable_packages_index"
UNPACKED_ENV_NAME = "pyenv"


class PythonEnvDescription(NamedTuple):
    """How a node runs an archive: the command, the name it is localized under, unpacked or not."""

    path_to_archive: str
    interpreter_cmd: str
    dest_path: str
    must_unpack: bool


class Packer:
    """A way to pack an environment; ``name`` is the executable's ``--packer`` value."""

    def __init__(self, name: str, extension: str) -> None:
        self.name = name
        self._extension = extension

    def extension(self) -> str:
        """The archive's extension, without the leading dot."""
        return self._extension

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Packer) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Packer({self.name!r})"


PEX_PACKER = Packer("pex", "pex")
VENV_PACKER = Packer("venv", "tar.gz")
CONDA_PACKER = Packer("conda", "tar.gz")
_PACKERS = {packer.name: packer for packer in (PEX_PACKER, VENV_PACKER, CONDA_PACKER)}

PackerLike = Union[Packer, str]


def packer_name(packer: PackerLike) -> str:
    """The ``--packer`` value of a Packer or of its name (``"pex"``, ``"pex.zip"``, ``"venv"``, ``"conda"``)."""
    name = packer.name if isinstance(packer, Packer) else packer
    if name not in _PACKERS and name != "pex.zip":
        raise ValueError(f"unknown packer {name!r} (expected pex, pex.zip, venv or conda)")
    return name


def get_pyenv_usage_from_archive(path_to_archive: str) -> PythonEnvDescription:
    """How a node runs ``path_to_archive`` (read from its name only)."""
    usage = run_json(["usage", path_to_archive])
    return PythonEnvDescription(
        usage["pathToArchive"], usage["interpreterCmd"], usage["destPath"], usage["mustUnpack"]
    )


def detect_packer_from_file(zip_file: str) -> Packer:
    """The packer that made an archive, from its name (.pex and .pex.zip are pex archives)."""
    packer = run_json(["usage", zip_file])["packer"]
    if packer is None:
        raise ValueError(f"{zip_file}: the name does not tell a venv archive from a conda one")
    # criteo treats a large pex (.pex.zip) as made by the pex packer.
    return PEX_PACKER if packer == "pex.zip" else _PACKERS[packer]


def get_default_fs() -> str:
    """The file system environments go to by default: Hadoop's fs.defaultFS, else the local store."""
    return run_json(["where"])["defaultFs"]


def get_editable_requirements(executable: str = sys.executable) -> Dict[str, str]:
    """The code under development in ``executable``'s environment: each importable top-level -> its path."""
    editable = run_json(["info", "--python", executable])["editable"]
    return {top["name"]: top["path"] for package in editable for top in package["topLevels"]}


def get_non_editable_requirements(executable: str = sys.executable) -> Dict[str, str]:
    """The installed, non-editable distributions of ``executable``'s environment: name -> version."""
    packages = run_json(["info", "--python", executable])["packages"]
    return {package["name"]: package["version"] for package in packages if not package["editable"]}


def running_from_pex() -> bool:
    """True inside a shipped pex: pex sets ``$PEX`` to the archive it runs from."""
    return "PEX" in os.environ


def interpreter_args() -> List[str]:
    """The ``--python`` option that ships this process's environment.

    Inside a shipped pex, no option: the executable then re-uploads that pex itself, as criteo does.
    Elsewhere, this very interpreter: the executable's default is the activated venv, which a notebook
    kernel or an unactivated ``venv/bin/python`` need not be.
    """
    if running_from_pex():
        return []
    return ["--python", sys.executable]
