"""The wheel: reproducible, installable offline, and its console script runs the bundled executable without Node."""
from __future__ import annotations

import hashlib
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
