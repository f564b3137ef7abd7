"""Shared fixtures: the real cluster-pack executable, a local store, and a fresh venv with a tiny package."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parent
STANDALONE_EXECUTABLE = REPO / "apps" / "standalone" / "dist" / "cluster-pack"
SYSTEM_PYTHON = "/usr/bin/python3"

sys.path.insert(0, str(PYTHON_DIR))


def resolve_executable() -> Path:
    """$CLUSTER_PACK_EXECUTABLE, else the standalone build; a missing one fails the suite, never skips it."""
    configured = os.environ.get("CLUSTER_PACK_EXECUTABLE")
    executable = Path(configured) if configured else STANDALONE_EXECUTABLE
    if not executable.is_file():
        pytest.fail(
            f"no cluster-pack executable at {executable}: build it "
            "(pnpm turbo run build --filter=@cluster-pack/standalone) or set CLUSTER_PACK_EXECUTABLE",
            pytrace=False,
        )
    return executable


@pytest.fixture(scope="session")
def cli_executable() -> Path:
    return resolve_executable()


@pytest.fixture(scope="session")
def session_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(autouse=True)
def cluster_pack_environment(
    cli_executable: Path, session_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test talks to the real executable and a local store, whatever Hadoop or S3 the host has."""
    monkeypatch.setenv("CLUSTER_PACK_EXECUTABLE", str(cli_executable))
    monkeypatch.setenv("CLUSTER_PACK_STORE", str(session_store))
    for name in ("HADOOP_CONF_DIR", "HADOOP_HOME", "PEX", "VIRTUAL_ENV", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL",
                 "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PYSPARK_PYTHON",
                 "PYSPARK_DRIVER_PYTHON"):
        monkeypatch.delenv(name, raising=False)


def run(command: list, **kwargs: Any) -> subprocess.CompletedProcess:
    """Runs a command, failing the test with its output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        pytest.fail(f"{command} exited {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}", pytrace=False)
    return done


def write_project(root: Path, name: str, modules: Dict[str, str]) -> Path:
    """A setup.py project (installable offline, also in editable mode without the wheel package)."""
    root.mkdir(parents=True)
    (root / "setup.py").write_text(
        f"from setuptools import setup\nsetup(name={name!r}, version='1.0', packages=[{name!r}])\n"
    )
    (root / name).mkdir()
    for module, source in modules.items():
        (root / name / module).write_text(textwrap.dedent(source))
    return root


class Venv:
    """A fresh venv whose Python runs snippets that import this cluster_pack."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = root / "bin" / "python"

    def call(self, code: str, env: Optional[Dict[str, str]] = None) -> Any:
        """Runs ``code`` (which sets ``result``) in the venv and returns ``result`` through JSON."""
        script = f"import json, sys\n{textwrap.dedent(code)}\nsys.stdout.write(json.dumps(result))\n"
        child_env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), **(env or {})}
        return json.loads(run([str(self.python), "-c", script], env=child_env).stdout)


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    root = tmp_path_factory.mktemp("projects")
    tinypkg = write_project(root / "tinypkg", "tinypkg", {
        "__init__.py": "VALUE = 42\n",
        "show.py": "import sys\nimport tinypkg\nprint('tinypkg', tinypkg.VALUE, *sys.argv[1:])\n",
    })
    edlib = write_project(root / "edlib", "edlib", {"__init__.py": "NAME = 'edlib'\n"})
    return {"tinypkg": tinypkg, "edlib": edlib}


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory, projects: Dict[str, Path]) -> Venv:
    """A venv with tinypkg installed from a wheel built here, and edlib installed in editable mode."""
    root = tmp_path_factory.mktemp("venv")
    wheels = tmp_path_factory.mktemp("wheels")
    run([SYSTEM_PYTHON, "-m", "venv", str(root / "env")])
    created = Venv(root / "env")
    offline = ["--no-index", "--no-build-isolation", "--quiet"]
    run([SYSTEM_PYTHON, "-m", "pip", "wheel", "--no-deps", *offline, "-w", str(wheels), str(projects["tinypkg"])])
    run([str(created.python), "-m", "pip", "install", *offline, "--find-links", str(wheels), "tinypkg"])
    run([str(created.python), "-m", "pip", "install", *offline, "-e", str(projects["edlib"])])
    return created


@pytest.fixture(scope="session")
def uploaded_pex(venv: Venv, session_store: Path, cli_executable: Path) -> str:
    """The venv uploaded once as a pex, for the tests that only read an archive."""
    path = str(session_store / "envs" / "shared.pex")
    env = {"CLUSTER_PACK_EXECUTABLE": str(cli_executable), "CLUSTER_PACK_STORE": str(session_store)}
    return venv.call(f"import cluster_pack\nresult = cluster_pack.upload_env(package_path={path!r})[0]", env)


@pytest.fixture
def argv_recorder(tmp_path: Path, cli_executable: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points CLUSTER_PACK_EXECUTABLE at a wrapper that logs each command line, as ``ps`` would show it."""
    log = tmp_path / "argv.log"
    wrapper = tmp_path / "recording-cluster-pack"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{cli_executable}" "$@"\n')
    wrapper.chmod(0o755)
    log.write_text("")
    monkeypatch.setenv("CLUSTER_PACK_EXECUTABLE", str(wrapper))
    return log


def cli_json(*args: str, env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """What the executable itself prints for ``args --json``."""
    executable = os.environ["CLUSTER_PACK_EXECUTABLE"]
    return json.loads(run([executable, *args, "--json"], env={**os.environ, **(env or {})}).stdout)


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    """An s3rver with a ``bucket``; yields its endpoint and credentials."""
    script = next(REPO.glob("node_modules/.pnpm/s3rver@*/node_modules/s3rver/bin/s3rver.js"), None)
    if script is None:
        pytest.fail(f"s3rver not found under {REPO}/node_modules/.pnpm (run pnpm install)", pytrace=False)
    directory = tmp_path_factory.mktemp("s3rver")
    # The legacy provider: s3rver 3.7 uses DES for listing tokens, which OpenSSL 3 keeps there.
    server = subprocess.Popen(
        ["node", "--openssl-legacy-provider", str(script), "-d", str(directory), "-p", "0",
         "--configure-bucket", "bucket"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if "listening on" in line:
                address = line.rsplit(" ", 1)[-1].strip()
                break
        else:
            pytest.fail("s3rver exited before listening", pytrace=False)
        # Keep draining its log so that it never blocks on a full pipe.
        threading.Thread(target=server.stdout.read, daemon=True).start()
        yield {"endpoint": f"http://{address}", "key": "S3RVER", "secret": "S3RVER", "directory": str(directory)}
    finally:
        server.terminate()
        server.wait(timeout=10)
