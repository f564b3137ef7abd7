"""Makes a ``SparkSession.Builder`` use a shipped environment, as criteo's spark_config_builder does.

The builder is only touched through ``_options`` (a dict) and ``config(key, value)``, so pyspark is not
imported here; the properties come from ``cluster-pack config spark --json``.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional

from cluster_pack._executable import environment_of_fs_args, run_json

# The archive add_packaged_environment last added, whose editable code add_editable_requirements re-applies.
_packaged_archive: Optional[str] = None

# Properties that name the cluster: the executable assumes yarn/client when the builder sets neither, but
# writing that assumption into the builder would override spark-submit's --master and --deploy-mode.
_CLUSTER_CHOICES = ("spark.master", "spark.submit.deployMode")

# Secrets must not reach a command line (every user sees it); these properties never matter to the merge.
_SECRET_PROPERTY = re.compile(r"secret|password|token|credential|access\.key", re.IGNORECASE)


def add_packaged_environment(ssb: Any, archive: str) -> None:
    """Ships ``archive`` with the job and runs the job's Python in it.

    Also brings the editable code ``upload_env`` uploaded beside the archive (``spark.submit.pyFiles``), sets
    ``PYSPARK_PYTHON`` and ``PYSPARK_DRIVER_PYTHON``, and extends the lists the builder already has.
    """
    global _packaged_archive
    _apply_spark_config(ssb, archive)
    _packaged_archive = archive


def add_editable_requirements(ssb: Any) -> None:
    """Re-applies the editable code stored beside the archive of ``add_packaged_environment`` (idempotent).

    Unlike criteo, the code shipped is the one zipped by ``upload_env``, not the local tree as it is now.
    """
    if _packaged_archive is None:
        raise RuntimeError("no packaged environment: call add_packaged_environment(ssb, archive) first")
    _apply_spark_config(ssb, _packaged_archive)


def add_s3_params(ssb: Any, fs_args: Optional[Dict[str, Any]] = None) -> None:
    """Sets the ``spark.hadoop.fs.s3a.*`` properties (endpoint, key and secret, as criteo does)."""
    answer = run_json(["config", "s3a", "--include-secrets"], environment_of_fs_args(fs_args))
    for key, value in answer["properties"].items():
        ssb.config(key, value)


def _apply_spark_config(ssb: Any, archive: str) -> None:
    options: Dict[str, Any] = ssb._options
    answer = run_json(["config", "spark", "--package-path", archive, *_conf_args(options)])
    properties: Dict[str, str] = answer["properties"]
    for key, value in properties.items():
        if key in _CLUSTER_CHOICES and key not in options:
            continue
        if options.get(key) != value:
            ssb.config(key, value)
    os.environ["PYSPARK_PYTHON"] = answer["environmentVariables"]["PYSPARK_PYTHON"]
    os.environ["PYSPARK_DRIVER_PYTHON"] = properties["spark.pyspark.driver.python"]


def _conf_args(options: Dict[str, Any]) -> List[str]:
    args: List[str] = []
    for key, value in options.items():
        if not _SECRET_PROPERTY.search(key):
            args += ["--conf", f"{key}={value}"]
    return args
