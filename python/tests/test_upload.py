"""upload_env and upload_zip against the real executable and a local store or s3rver."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict

import pytest

import cluster_pack
from conftest import Venv, run


def test_upload_env_uploads_once_and_the_pex_runs(venv: Venv, tmp_path: Path) -> None:
    target = tmp_path / "envs" / "x.pex"
    upload = f"import cluster_pack\nresult = cluster_pack.upload_env(package_path={str(target)!r})"

    first_path, env_name = venv.call(upload)
    assert first_path == str(target)
    assert env_name
    first_mtime = target.stat().st_mtime_ns

    second_path, _ = venv.call(upload)
    assert second_path == first_path
    assert target.stat().st_mtime_ns == first_mtime, "a current archive must not be uploaded again"

    ran = run(["/usr/bin/python3", str(target), "-c", "import tinypkg; print(tinypkg.VALUE)"])
    assert ran.stdout.strip() == "42"


def test_allow_large_pex_turns_a_pex_name_into_pex_zip(venv: Venv, tmp_path: Path) -> None:
    target = tmp_path / "envs" / "large.pex"
    path, _ = venv.call(
        f"import cluster_pack\n"
        f"result = cluster_pack.upload_env(package_path={str(target)!r}, packer=cluster_pack.PEX_PACKER, "
        f"allow_large_pex=True)"
    )
    assert path == f"{target}.zip"
    assert Path(path).is_file()


def test_inside_a_shipped_pex_the_pex_itself_is_uploaded(venv: Venv, uploaded_pex: str, tmp_path: Path) -> None:
    target = tmp_path / "envs" / "again.pex"
    path, env_name = venv.call(
        f"import cluster_pack\nresult = cluster_pack.upload_env(package_path={str(target)!r})", env={"PEX": uploaded_pex}
    )
    assert (path, env_name) == (str(target), "shared")
    assert target.read_bytes() == Path(uploaded_pex).read_bytes()


def test_upload_zip_returns_where_the_archive_went(uploaded_pex: str, tmp_path: Path) -> None:
    target = tmp_path / "copies" / "copy.pex"
    assert cluster_pack.upload_zip(uploaded_pex, package_path=str(target)) == str(target)
    assert target.read_bytes() == Path(uploaded_pex).read_bytes()


def test_a_bad_extension_is_a_usage_error_on_one_line(tmp_path: Path) -> None:
    with pytest.raises(cluster_pack.ClusterPackError) as raised:
        cluster_pack.upload_env(package_path=str(tmp_path / "env.txt"))
    assert raised.value.exit_code == 2
    assert "env.txt" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert raised.value.hint


def test_unsupported_options_fail_before_running_anything() -> None:
    with pytest.raises(ValueError, match="include_pex_tools"):
        cluster_pack.upload_env(include_pex_tools=True)
    with pytest.raises(ValueError, match="fs_args: unsupported key 'anon'"):
        cluster_pack.upload_env(fs_args={"anon": True})


def test_upload_env_to_s3_keeps_the_secret_off_the_command_line(
    venv: Venv, s3rver: Dict[str, str], argv_recorder: Path
) -> None:
    fs_args = {"key": s3rver["key"], "secret": s3rver["secret"], "client_kwargs": {"endpoint_url": s3rver["endpoint"]}}
    path, _ = venv.call(
        f"import cluster_pack\n"
        f"result = cluster_pack.upload_env(package_path='s3://bucket/envs/x.pex', fs_args={fs_args!r})"
    )
    assert path == "s3://bucket/envs/x.pex"
    stored = [name for _, _, files in os.walk(s3rver["directory"]) for name in files]
    assert any(name.startswith("x.pex") for name in stored), stored

    command_lines = argv_recorder.read_text()
    assert "upload" in command_lines
    assert s3rver["secret"] not in command_lines
    assert s3rver["key"] not in command_lines


def test_the_child_stderr_reaches_ours_while_the_answer_is_parsed(
    tmp_path: Path, cli_executable: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    noisy = tmp_path / "noisy-cluster-pack"
    noisy.write_text(f'#!/bin/sh\necho "note: from the child" >&2\nexec "{cli_executable}" "$@"\n')
    noisy.chmod(0o755)
    monkeypatch.setenv("CLUSTER_PACK_EXECUTABLE", str(noisy))

    assert cluster_pack.get_pyenv_usage_from_archive("x.pex").interpreter_cmd == "./x.pex"
    assert "note: from the child" in capfd.readouterr().err


def test_what_is_being_done_reaches_stderr_one_line_each(
    uploaded_pex: str, tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    target = tmp_path / "copy" / "shared.pex"
    capfd.readouterr()
    assert cluster_pack.upload_zip(uploaded_pex, package_path=str(target)) == str(target)
    assert f"uploading {target}" in capfd.readouterr().err.splitlines()
