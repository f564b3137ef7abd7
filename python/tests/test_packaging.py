"""Archive descriptions, packers, the default file system and the environment's requirements."""
from __future__ import annotations

from pathlib import Path

import pytest

import cluster_pack
from cluster_pack import PythonEnvDescription
from conftest import Venv


@pytest.mark.parametrize(
    "archive, expected",
    [
        ("hdfs://nn/envs/x.pex", PythonEnvDescription("hdfs://nn/envs/x.pex", "./x.pex", "x.pex", False)),
        (
            "s3://bucket/envs/x.pex.zip",
            PythonEnvDescription("s3://bucket/envs/x.pex.zip", "pyenv/__main__.py", cluster_pack.UNPACKED_ENV_NAME, True),
        ),
        ("/envs/x.tar.gz", PythonEnvDescription("/envs/x.tar.gz", "environment/bin/python", "environment", True)),
    ],
)
def test_pyenv_usage_from_archive(archive: str, expected: PythonEnvDescription) -> None:
    assert cluster_pack.get_pyenv_usage_from_archive(archive) == expected


def test_detect_packer_from_file() -> None:
    assert cluster_pack.detect_packer_from_file("envs/x.pex") == cluster_pack.PEX_PACKER
    assert cluster_pack.detect_packer_from_file("envs/x.pex.zip") == cluster_pack.PEX_PACKER
    assert cluster_pack.PEX_PACKER.extension() == "pex"
    with pytest.raises(ValueError, match="venv archive from a conda one"):
        cluster_pack.detect_packer_from_file("envs/x.tar.gz")
    with pytest.raises(cluster_pack.ClusterPackError) as raised:
        cluster_pack.detect_packer_from_file("envs/x.txt")
    assert raised.value.exit_code == 2


def test_default_fs_is_the_store_without_hadoop(session_store: Path) -> None:
    default_fs = cluster_pack.get_default_fs()
    assert default_fs in (str(session_store), session_store.as_uri())


def test_requirements_of_a_venv(venv: Venv, projects: dict) -> None:
    assert cluster_pack.get_editable_requirements(str(venv.python)) == {"edlib": str(projects["edlib"] / "edlib")}
    non_editable = cluster_pack.get_non_editable_requirements(str(venv.python))
    assert non_editable["tinypkg"] == "1.0"
    assert "edlib" not in non_editable


def test_requirements_default_to_the_running_interpreter(venv: Venv) -> None:
    editable = venv.call("import cluster_pack\nresult = cluster_pack.get_editable_requirements()")
    assert list(editable) == ["edlib"]


def test_packers_accept_names_and_reject_unknown_ones() -> None:
    with pytest.raises(ValueError, match="unknown packer 'zipapp'"):
        cluster_pack.upload_env(packer="zipapp")
