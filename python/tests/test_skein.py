"""skein_config_builder: criteo's SkeinConfig, checked by running its script in a directory laid out as YARN would."""
from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from cluster_pack.skein import skein_config_builder
from cluster_pack.skein.skein_config_builder import SkeinConfig


def localize(config: SkeinConfig, container: Path) -> None:
    """What a NodeManager does with the files: archives (.zip) unpacked, others copied, under their names."""
    for name, source in config.files.items():
        if source.endswith(".zip"):
            with zipfile.ZipFile(source) as archive:
                archive.extractall(container / name)
        else:
            shutil.copy2(source, container / name)


def test_build_runs_the_module_through_the_archive(uploaded_pex: str, tmp_path: Path) -> None:
    extra = tmp_path / "settings.txt"
    extra.write_text("x")
    config = skein_config_builder.build("tinypkg.show", ["a", 1], package_path=uploaded_pex, additional_files=[str(extra)])

    assert isinstance(config, SkeinConfig)
    assert config.files["shared.pex"] == uploaded_pex
    assert config.files["settings.txt"] == str(extra)
    assert config.env["SKEIN_CONFIG"] == "./.skein"
    assert "./shared.pex -m tinypkg.show" in config.script

    container = tmp_path / "container"
    container.mkdir()
    localize(config, container)
    ran = subprocess.run(
        ["/bin/sh", "-c", config.script], cwd=container, capture_output=True, text=True,
        env={**os.environ, **config.env},
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().splitlines()[-1] == "tinypkg 42 a 1"


def test_build_spec_is_the_application_with_the_additional_files(uploaded_pex: str) -> None:
    spec = skein_config_builder.build_spec("tinypkg.show", package_path=uploaded_pex, additional_files=["hdfs://nn/f.txt"])
    (service,) = spec["services"].values()
    assert service["files"]["f.txt"] == {"source": "hdfs://nn/f.txt"}
    assert service["files"]["shared.pex"]["source"] == uploaded_pex


def test_process_logs_is_refused_on_one_line(uploaded_pex: str) -> None:
    with pytest.raises(ValueError, match="process_logs is not supported"):
        skein_config_builder.build("tinypkg.show", package_path=uploaded_pex, process_logs=print)
