"""Finding the cluster-pack executable and running it with ``--json``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any, Dict, List, Mapping, Optional

EXECUTABLE_ENV = "CLUSTER_PACK_EXECUTABLE"
_BUNDLED_EXECUTABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "cluster-pack")


class ClusterPackError(RuntimeError):
    """The executable failed: its one-line ``error:`` message, exit code (2 = bad argument) and hint."""

    def __init__(self, message: str, exit_code: int, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.hint = hint


def find_executable() -> str:
    """``$CLUSTER_PACK_EXECUTABLE``, else the executable bundled in the wheel."""
    configured = os.environ.get(EXECUTABLE_ENV)
    if configured:
        if not os.path.isfile(configured):
            raise FileNotFoundError(f"{EXECUTABLE_ENV}={configured}: no such file")
        return configured
    if not os.path.isfile(_BUNDLED_EXECUTABLE):
        raise FileNotFoundError(
            f"{_BUNDLED_EXECUTABLE}: missing (install the cluster-pack wheel or set {EXECUTABLE_ENV})"
        )
    return _BUNDLED_EXECUTABLE


def run_json(args: List[str], extra_env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Runs ``cluster-pack ARGS --json`` and returns the JSON object it prints.

    The child's stderr (progress, notes) is echoed line by line to ``sys.stderr`` as it comes, so long
    uploads show progress in notebooks too; its ``error:``/``hint:`` lines become a ClusterPackError.
    Secrets travel in ``extra_env``, never in ``args`` (a command line is visible to every user).
    """
    env = dict(os.environ)
    env.update(extra_env or {})
    # Options end at "--" (what follows goes to the job), so --json goes before it.
    end_of_options = args.index("--") if "--" in args else len(args)
    child = subprocess.Popen(
        [find_executable(), *args[:end_of_options], "--json", *args[end_of_options:]],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    failure: Dict[str, str] = {}
    echo = threading.Thread(target=_echo_stderr, args=(child.stderr, failure), daemon=True)
    echo.start()
    assert child.stdout is not None
    stdout = child.stdout.read()
    exit_code = child.wait()
    echo.join()
    if exit_code != 0:
        message = failure.get("error", f"cluster-pack {args[0]} failed with exit code {exit_code}")
        raise ClusterPackError(message, exit_code, failure.get("hint"))
    try:
        answer = json.loads(stdout)
    except ValueError:
        raise ClusterPackError(f"cluster-pack {args[0]} printed no JSON object on stdout", 1) from None
    if not isinstance(answer, dict):
        raise ClusterPackError(f"cluster-pack {args[0]} printed JSON that is not an object", 1)
    return answer


def _echo_stderr(stream: Any, failure: Dict[str, str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\n")
        # The failure lines end up in the exception; echoing them too would say everything twice.
        if line.startswith("error: "):
            failure["error"] = line[len("error: "):]
        elif line.startswith("hint: "):
            failure["hint"] = line[len("hint: "):]
        else:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
    stream.close()


def main() -> None:
    """The ``cluster-pack`` console script: replaces this process with the bundled executable."""
    try:
        executable = find_executable()
    except FileNotFoundError as missing:
        sys.exit(f"error: {missing}")
    os.execv(executable, [executable, *sys.argv[1:]])


_S3_CREDENTIALS = {"key": "AWS_ACCESS_KEY_ID", "secret": "AWS_SECRET_ACCESS_KEY", "token": "AWS_SESSION_TOKEN"}


def environment_of_fs_args(fs_args: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    """The child environment for criteo's s3fs-style ``fs_args`` (key, secret, token, client_kwargs)."""
    env: Dict[str, str] = {}
    for name, value in (fs_args or {}).items():
        if name in _S3_CREDENTIALS:
            env[_S3_CREDENTIALS[name]] = str(value)
        elif name == "client_kwargs":
            env.update(_environment_of_client_kwargs(value))
        else:
            raise ValueError(f"fs_args: unsupported key {name!r} (expected key, secret, token or client_kwargs)")
    region_known = "AWS_REGION" in env or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if env and not region_known:
        # S3-compatible stores ignore the region, but the AWS SDK refuses to sign without one.
        env["AWS_REGION"] = "us-east-1"
    return env


def _environment_of_client_kwargs(client_kwargs: Mapping[str, Any]) -> Dict[str, str]:
    env: Dict[str, str] = {}
    for name, value in client_kwargs.items():
        if name == "endpoint_url":
            env["AWS_ENDPOINT_URL_S3"] = str(value)
        elif name == "region_name":
            env["AWS_REGION"] = str(value)
        else:
            raise ValueError(
                f"fs_args: unsupported client_kwargs key {name!r} (expected endpoint_url or region_name)"
            )
    return env
