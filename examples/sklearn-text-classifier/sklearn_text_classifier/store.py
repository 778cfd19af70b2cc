"""A project's state on disk, so that several server processes (`--workers`) share one model:
the training examples, the fitted models by version, and what `/setup` said.

Writes go through a file lock and an atomic rename; readers never see half a file.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import joblib

_SAFE_KEY = re.compile(r"[^A-Za-z0-9_-]")


def project_key(project: Any) -> str:
    """Label Studio names a project `"<id>.<created_at unix time>"` in `/setup` and `/predict`,
    and as an object (`{"id": …}`) in webhooks; the id is what they share."""
    if isinstance(project, dict):
        project = project.get("id")
    key = "" if project is None else str(project).split(".", 1)[0]
    if not key:
        raise ValueError("the request names no project")
    return _SAFE_KEY.sub("_", key)


class ProjectStore:
    def __init__(self, root: Path, key: str) -> None:
        self.path = root / key
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "models").mkdir(exist_ok=True)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time across processes (training, recording examples)."""
        with (self.path / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_json(self, name: str, default: Any) -> Any:
        try:
            return json.loads((self.path / name).read_text())
        except FileNotFoundError:
            return default

    def _write_json(self, name: str, value: Any, *, private: bool = False) -> None:
        temporary = self.path / f".{name}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with os.fdopen(os.open(temporary, flags, 0o600 if private else 0o644), "w") as handle:
            json.dump(value, handle)
        temporary.replace(self.path / name)

    # What /setup said: the labeling config and how to reach the platform (the token is
    # written owner-only and never logged or answered).
    def setup(self) -> dict[str, Any]:
        setup: dict[str, Any] = self._read_json("setup.json", {})
        return setup

    def save_setup(self, setup: dict[str, Any]) -> None:
        self._write_json("setup.json", setup, private=True)

    # Training examples, keyed by annotation id: {"<annotation id>": {"task", "text", "label"}}.
    def examples(self) -> dict[str, dict[str, Any]]:
        examples: dict[str, dict[str, Any]] = self._read_json("examples.json", {})
        return examples

    def save_examples(self, examples: dict[str, dict[str, Any]]) -> None:
        self._write_json("examples.json", examples)

    # Models: models/<n>.joblib, the current one named in current.json.
    def current_version(self) -> str | None:
        current: dict[str, Any] = self._read_json("current.json", {})
        version = current.get("version")
        return str(version) if version else None

    def versions(self) -> list[str]:
        numbers = sorted(int(path.stem) for path in (self.path / "models").glob("*.joblib"))
        return [version_name(number) for number in numbers]

    def save_model(self, model: Any) -> str:
        existing = [int(path.stem) for path in (self.path / "models").glob("*.joblib")]
        number = max(existing, default=0) + 1
        temporary = self.path / "models" / f".{number}.tmp"
        joblib.dump(model, temporary)
        temporary.replace(self.path / "models" / f"{number}.joblib")
        version = version_name(number)
        self._write_json("current.json", {"version": version})
        return version

    def load_model(self, version: str) -> Any:
        return joblib.load(self.path / "models" / f"{version_number(version)}.joblib")


VERSION_PREFIX = "tfidf-logreg-v"


def version_name(number: int) -> str:
    return f"{VERSION_PREFIX}{number}"


def version_number(version: str) -> int:
    return int(version.removeprefix(VERSION_PREFIX))
