"""The wheel: reproducible, installable offline, and its console script runs the bundled executable without Node."""
from __future__ import annotations

import hashlib
import json
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Dict

import pytest

from conftest import PYTHON_DIR, SYSTEM_PYTHON, run

WHEEL_TAG = "py3-none-manylinux_2_28_x86_64"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory, cli_executable: Path) -> Dict[str, Path]:
    """The wheel built twice from the same tree, bundling the executable under test."""
    built = {}
    for attempt in ("first", "second"):
        dest = tmp_path_factory.mktemp(f"wheel-{attempt}")
        run(["bash", str(PYTHON_DIR / "build-wheel.sh"), str(dest), str(cli_executable)])
        (built[attempt],) = dest.glob("*.whl")
    return built


def test_the_wheel_is_platform_tagged_and_reproducible(wheels: Dict[str, Path]) -> None:
    assert wheels["first"].name.startswith("cluster_pack-")
    assert wheels["first"].name.endswith(f"-{WHEEL_TAG}.whl")
    assert sha256(wheels["first"]) == sha256(wheels["second"])


def test_the_installed_console_script_needs_no_node(
    wheels: Dict[str, Path], cli_executable: Path, tmp_path: Path
) -> None:
    if cli_executable.read_bytes()[:2] == b"#!":
        pytest.fail(
            f"{cli_executable} is a script, not the standalone executable: build apps/standalone "
            "or point CLUSTER_PACK_EXECUTABLE at its dist/cluster-pack to prove the wheel needs no Node",
            pytrace=False,
        )
    venv = tmp_path / "venv"
    run([SYSTEM_PYTHON, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index", str(wheels["first"])])

    (bundled,) = venv.glob("lib/python*/site-packages/cluster_pack/bin/cluster-pack")
    assert stat.S_IMODE(bundled.stat().st_mode) == 0o755

    # Only the venv on PATH (node is in /usr/bin here): whatever runs must come from the wheel.
    path = str(venv / "bin")
    assert shutil.which("node", path=path) is None
    env = {"PATH": path, "HOME": str(tmp_path)}
    version = run([str(venv / "bin" / "cluster-pack"), "--version"], env=env).stdout.strip()
    assert version == run([str(cli_executable), "--version"]).stdout.strip()

    where = run([str(venv / "bin" / "cluster-pack"), "where", "--json"], env={**env, "CLUSTER_PACK_STORE": str(tmp_path)})
    assert str(tmp_path) in where.stdout


def test_the_build_script_names_a_missing_executable(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    done = subprocess.run(["bash", str(PYTHON_DIR / "build-wheel.sh"), str(tmp_path), str(missing)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {missing}: no such file"


# A user's first session with the wheel: only the venv on PATH, the bundled executable (no CLUSTER_PACK_EXECUTABLE).
SHIP_AND_CONFIGURE = """
import json, os, sys
import cluster_pack
from cluster_pack.spark import spark_config_builder

class Builder:
    def __init__(self):
        self._options = {}
    def config(self, key, value):
        self._options[key] = str(value)
        return self

path = sys.argv[1]
first = cluster_pack.upload_env(package_path=path)
written = os.stat(path).st_mtime_ns
second = cluster_pack.upload_env(package_path=path)
builder = Builder()
spark_config_builder.add_packaged_environment(builder, path)
print(json.dumps({
    "first": first,
    "second": second,
    "rewritten": os.stat(path).st_mtime_ns != written,
    "usage": cluster_pack.get_pyenv_usage_from_archive(path)._asdict(),
    "options": builder._options,
    "pyspark_python": os.environ["PYSPARK_PYTHON"],
}))
"""


def test_the_installed_wheel_ships_an_environment_without_node(
    wheels: Dict[str, Path], cli_executable: Path, projects: Dict[str, Path], tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    run([SYSTEM_PYTHON, "-m", "venv", str(venv)])
    offline = ["--no-index", "--no-build-isolation", "--quiet"]
    run([SYSTEM_PYTHON, "-m", "pip", "wheel", "--no-deps", *offline, "-w", str(tmp_path / "w"), str(projects["tinypkg"])])
    run([str(python), "-m", "pip", "install", *offline, "--find-links", str(tmp_path / "w"), "tinypkg", str(wheels["first"])])

    path = str(venv / "bin")
    assert shutil.which("node", path=path) is None
    store = tmp_path / "store"
    package_path = str(store / "envs" / "team.pex")
    env = {"PATH": path, "HOME": str(tmp_path), "CLUSTER_PACK_STORE": str(store)}
    # From another directory: `python -c` would import the source tree from the working directory first.
    done = run([str(python), "-c", SHIP_AND_CONFIGURE, package_path], env=env, cwd=str(tmp_path))
    shipped = json.loads(done.stdout)

    assert shipped["first"][0] == package_path
    assert shipped["second"] == shipped["first"]
    assert shipped["rewritten"] is False
    # The same answers as the executable's own, for the same archive.
    cli_env = {**env, "PATH": "/usr/bin:/bin"}
    usage = json.loads(run([str(cli_executable), "usage", package_path, "--json"], env=cli_env).stdout)
    assert shipped["usage"] == {
        "path_to_archive": usage["pathToArchive"],
        "interpreter_cmd": usage["interpreterCmd"],
        "dest_path": usage["destPath"],
        "must_unpack": usage["mustUnpack"],
    }
    spark = json.loads(run([str(cli_executable), "config", "spark", "--package-path", package_path, "--json"], env=cli_env).stdout)
    expected = {k: v for k, v in spark["properties"].items() if k not in ("spark.master", "spark.submit.deployMode")}
    assert shipped["options"] == expected
    assert shipped["pyspark_python"] == spark["environmentVariables"]["PYSPARK_PYTHON"]
    # The uploaded pex runs and imports what the venv had.
    ran = run([SYSTEM_PYTHON, package_path, "-c", "import tinypkg; print(tinypkg.VALUE)"],
              env={"PATH": "/usr/bin:/bin", "PEX_ROOT": str(tmp_path / "pex-root")})
    assert ran.stdout.strip() == "42"
