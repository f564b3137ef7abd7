"""The Spark builder functions, on a stand-in with pyspark's SparkSession.Builder shape (pyspark is not installed)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List

import pytest

from cluster_pack.spark import spark_config_builder
from conftest import cli_json


class StandInBuilder:
    """What the functions use of ``SparkSession.Builder``: ``_options`` and a chaining ``config``."""

    def __init__(self, **options: str) -> None:
        self._options: Dict[str, str] = dict(options)
        self.calls: List[str] = []

    def config(self, key: str, value: Any) -> "StandInBuilder":
        self._options[key] = str(value)
        self.calls.append(key)
        return self


@pytest.fixture(autouse=True)
def fresh_module_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_config_builder, "_packaged_archive", None)


def conf_args(options: Dict[str, str]) -> List[str]:
    return [arg for key, value in options.items() for arg in ("--conf", f"{key}={value}")]


def test_the_builder_gets_what_config_spark_prints(uploaded_pex: str) -> None:
    existing = {
        "spark.master": "yarn",
        "spark.submit.deployMode": "client",
        "spark.yarn.dist.files": "hdfs://nn/data/extra.txt",
    }
    builder = StandInBuilder(**existing)

    spark_config_builder.add_packaged_environment(builder, uploaded_pex)

    expected = cli_json("config", "spark", "--package-path", uploaded_pex, *conf_args(existing))
    assert builder._options == expected["properties"]
    index = os.path.join(os.path.dirname(uploaded_pex), "shared_editable", "editable_packages_index")
    assert builder._options["spark.yarn.dist.files"].split(",") == ["hdfs://nn/data/extra.txt", uploaded_pex, index]
    assert builder._options["spark.submit.pyFiles"].endswith("/edlib.zip")
    assert os.environ["PYSPARK_PYTHON"] == expected["environmentVariables"]["PYSPARK_PYTHON"] == "./shared.pex"
    assert os.environ["PYSPARK_DRIVER_PYTHON"] == expected["properties"]["spark.pyspark.driver.python"]


def test_the_cluster_is_left_to_spark_submit_when_the_builder_does_not_name_it(uploaded_pex: str) -> None:
    builder = StandInBuilder()
    spark_config_builder.add_packaged_environment(builder, uploaded_pex)
    assert "spark.master" not in builder._options
    assert "spark.submit.deployMode" not in builder._options
    assert builder._options["spark.yarn.dist.files"].split(",")[0] == uploaded_pex


def test_cluster_mode_runs_the_driver_in_the_archive(uploaded_pex: str) -> None:
    builder = StandInBuilder(**{"spark.master": "yarn", "spark.submit.deployMode": "cluster"})
    spark_config_builder.add_packaged_environment(builder, uploaded_pex)
    assert os.environ["PYSPARK_DRIVER_PYTHON"] == "./shared.pex"


def test_add_editable_requirements_needs_an_archive_then_changes_nothing_more(uploaded_pex: str) -> None:
    builder = StandInBuilder(**{"spark.master": "yarn"})
    with pytest.raises(RuntimeError, match="call add_packaged_environment"):
        spark_config_builder.add_editable_requirements(builder)

    spark_config_builder.add_packaged_environment(builder, uploaded_pex)
    before = dict(builder._options)
    builder.calls.clear()
    spark_config_builder.add_editable_requirements(builder)
    assert builder._options == before
    assert builder.calls == []


def test_secret_properties_stay_off_the_command_line(uploaded_pex: str, argv_recorder: Path) -> None:
    builder = StandInBuilder(**{"spark.master": "yarn", "spark.hadoop.fs.s3a.secret.key": "TOP-SECRET-VALUE"})
    spark_config_builder.add_packaged_environment(builder, uploaded_pex)
    assert builder._options["spark.hadoop.fs.s3a.secret.key"] == "TOP-SECRET-VALUE"
    assert "config spark" in argv_recorder.read_text()
    assert "TOP-SECRET-VALUE" not in argv_recorder.read_text()


def test_add_s3_params_puts_the_credentials_in_the_builder(argv_recorder: Path) -> None:
    builder = StandInBuilder()
    fs_args = {"key": "AKIA-TEST", "secret": "SECRET-TEST", "client_kwargs": {"endpoint_url": "http://s3.local:9000"}}
    spark_config_builder.add_s3_params(builder, fs_args)
    assert builder._options["spark.hadoop.fs.s3a.access.key"] == "AKIA-TEST"
    assert builder._options["spark.hadoop.fs.s3a.secret.key"] == "SECRET-TEST"
    assert builder._options["spark.hadoop.fs.s3a.endpoint"] == "http://s3.local:9000"
    assert builder._options["spark.hadoop.fs.s3a.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert "SECRET-TEST" not in argv_recorder.read_text()
    assert "AKIA-TEST" not in argv_recorder.read_text()
