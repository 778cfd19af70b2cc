"""The signing key: never a public default, one random key per data directory."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path
from typing import Any

import pytest
from labelops_common.settings import (
    DEVELOPMENT_SECRET_KEY,
    SECRET_KEY_FILE,
    CommonSettings,
    data_dir_secret_key,
)
from pydantic import SecretStr, ValidationError


@pytest.fixture(autouse=True)
def _no_secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABELOPS_SECRET_KEY", raising=False)
    monkeypatch.delenv("LABELOPS_ENVIRONMENT", raising=False)


def test_a_fresh_data_dir_gets_a_random_key_kept_for_later_starts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = CommonSettings(data_dir=data_dir).resolved_secret_key()
    assert first != DEVELOPMENT_SECRET_KEY and len(first) >= 32
    key_file = data_dir / SECRET_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text() == first
    # A later start (a new process) reads the same key; no temporary file is left behind.
    assert CommonSettings(data_dir=data_dir).resolved_secret_key() == first
    assert [path.name for path in data_dir.iterdir()] == [SECRET_KEY_FILE]
    # Another data directory is another install, with its own key.
    assert CommonSettings(data_dir=tmp_path / "other").resolved_secret_key() != first


def test_a_configured_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    common = CommonSettings(data_dir=tmp_path, secret_key=SecretStr("k" * 40))
    assert common.resolved_secret_key() == "k" * 40
    assert not (tmp_path / SECRET_KEY_FILE).exists()


def _read_key(data_dir: str, start: Any, keys: Any) -> None:
    start.wait()
    keys.put(data_dir_secret_key(Path(data_dir)))


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")  # this module's function, in every child
    start, keys = context.Barrier(4), context.Queue()
    processes = [
        context.Process(target=_read_key, args=(str(tmp_path), start, keys)) for _ in range(4)
    ]
    for process in processes:
        process.start()
    found = {keys.get(timeout=60) for _ in processes}
    for process in processes:
        process.join(timeout=30)
    assert found == {(tmp_path / SECRET_KEY_FILE).read_text()}


def test_an_unusable_key_file_is_refused_with_its_path(tmp_path: Path) -> None:
    (tmp_path / SECRET_KEY_FILE).write_text("short\n")
    with pytest.raises(ValueError, match="secret_key holds no usable key"):
        CommonSettings(data_dir=tmp_path).resolved_secret_key()


@pytest.mark.parametrize("secret", [None, DEVELOPMENT_SECRET_KEY, "too-short"])
def test_production_refuses_to_start_without_a_strong_key(
    tmp_path: Path, secret: str | None
) -> None:
    configured = {} if secret is None else {"secret_key": SecretStr(secret)}
    with pytest.raises(ValidationError, match="LABELOPS_SECRET_KEY must be set"):
        CommonSettings(environment="production", data_dir=tmp_path, **configured)
    assert not (tmp_path / SECRET_KEY_FILE).exists()


def test_production_accepts_a_strong_key(tmp_path: Path) -> None:
    common = CommonSettings(environment="production", secret_key=SecretStr("s" * 48))
    assert common.resolved_secret_key() == "s" * 48
