"""Real ML backends as servers, for tests and the benchmark: the reference scikit-learn text
classifier (`examples/sklearn-text-classifier`) and a model built on the `label-studio-ml`
package from PyPI, served by that package's own server (`examples/label-studio-ml-backend`).

Each runs in a virtual environment of its own, inside its example folder, made from the
example's lock file on first use (`uv`; a few seconds from uv's cache): a model server's
dependencies are not the platform's, and `label-studio-ml` pins Flask 1.1.2, which our own
dev group (Flask 3, for moto's server) cannot share one environment with.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from labelops_testing.emulators import free_port

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
SKLEARN_EXAMPLE = EXAMPLES / "sklearn-text-classifier"
LABEL_STUDIO_ML_EXAMPLE = EXAMPLES / "label-studio-ml-backend"


@dataclass
class RunningBackend:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError("`uv` is not on PATH: `make env` installs it")
    return uv


@contextmanager
def _example_lock(example: Path) -> Iterator[None]:
    """One environment build at a time per example (pytest runs and the benchmark may race)."""
    with (example / ".venv.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sklearn_environment() -> Path:
    """The reference backend's venv (`uv sync --frozen` from its own uv.lock)."""
    with _example_lock(SKLEARN_EXAMPLE):
        subprocess.run(  # noqa: S603
            [_uv(), "sync", "--frozen", "--quiet", "--project", str(SKLEARN_EXAMPLE)],
            check=True,
            env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
        )
    return SKLEARN_EXAMPLE / ".venv"


def label_studio_ml_environment() -> Path:
    """`label-studio-ml` from PyPI and its pins (requirements.txt, compiled by `uv pip
    compile` from requirements.in), in the example's own venv."""
    venv = LABEL_STUDIO_ML_EXAMPLE / ".venv"
    stamp = venv / "requirements.txt"
    requirements = LABEL_STUDIO_ML_EXAMPLE / "requirements.txt"
    with _example_lock(LABEL_STUDIO_ML_EXAMPLE):
        if stamp.is_file() and stamp.read_bytes() == requirements.read_bytes():
            return venv
        subprocess.run(  # noqa: S603
            [_uv(), "venv", "--quiet", "--python", "3.11", "--clear", str(venv)], check=True
        )
        subprocess.run(  # noqa: S603
            [_uv(), "pip", "install", "--quiet", "-r", str(requirements)],
            check=True,
            env={**os.environ, "VIRTUAL_ENV": str(venv)},
        )
        shutil.copyfile(requirements, stamp)
    return venv


def _serve(
    command: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    port: int,
    log_path: Path,
    timeout: float = 60.0,
) -> RunningBackend:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        # Its own process group: `label-studio-ml start` runs the server as a shell child.
        process = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    backend = RunningBackend(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited early:\n{backend.log()[-4000:]}")
        try:
            # Any answer will do: a backend behind basic auth answers /health with 401.
            if httpx.get(f"{backend.url}/health", timeout=1.0).status_code < 500:
                return backend
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop_backend(backend)
            raise RuntimeError(f"{command[0]} did not answer in time:\n{backend.log()[-4000:]}")
        time.sleep(0.1)


def stop_backend(backend: RunningBackend) -> None:
    """SIGTERM to the backend's process group, SIGKILL after 10 s."""
    try:
        os.killpg(backend.process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        backend.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(backend.process.pid, signal.SIGKILL)
        backend.process.wait(timeout=10)
    # The group may outlive its leader (a shell child); leave nothing behind.
    with suppress(ProcessLookupError):
        os.killpg(backend.process.pid, signal.SIGKILL)


@contextmanager
def sklearn_backend(
    workdir: Path,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[RunningBackend]:
    """The reference classifier on a free loopback port, its models under `workdir`, exactly
    as its README runs it (`sklearn-text-classifier --port P --model-dir D`)."""
    venv = sklearn_environment()
    port = free_port()
    command = [
        str(venv / "bin" / "sklearn-text-classifier"),
        "--port",
        str(port),
        "--model-dir",
        str(workdir / "models"),
        "--workers",
        str(workers),
    ]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("LABELOPS_")}
    backend = _serve(
        command,
        env={**base_env, **(env or {})},
        cwd=workdir,
        port=port,
        log_path=workdir / "sklearn-backend.log",
    )
    try:
        yield backend
    finally:
        stop_backend(backend)


@contextmanager
def label_studio_ml_backend(workdir: Path) -> Iterator[RunningBackend]:
    """`label-studio-ml init backend --script model.py` then `label-studio-ml start backend`:
    the package's own commands and server (Flask), nothing of ours in between."""
    venv = label_studio_ml_environment()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LABELOPS_")},
        # `label-studio-ml start` runs `python _wsgi.py`: the venv's python must come first.
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
    }
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        [
            str(venv / "bin" / "label-studio-ml"),
            "init",
            "backend",
            "--script",
            str(LABEL_STUDIO_ML_EXAMPLE / "model.py"),
            "--force",
        ],
        cwd=workdir,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    backend = _serve(
        [
            str(venv / "bin" / "label-studio-ml"),
            "start",
            "backend",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=workdir,
        port=port,
        log_path=workdir / "label-studio-ml.log",
    )
    try:
        yield backend
    finally:
        stop_backend(backend)


#: A two-choice sentiment config the example backends understand.
SENTIMENT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""

_POSITIVE = (
    "great",
    "superb",
    "lovely",
    "delightful",
    "excellent",
    "wonderful",
    "charming",
    "brilliant",
    "moving",
    "enjoyable",
)
_NEGATIVE = (
    "awful",
    "boring",
    "dreadful",
    "tedious",
    "terrible",
    "clumsy",
    "dull",
    "painful",
    "messy",
    "forgettable",
)
_NEUTRAL = (
    "the",
    "film",
    "plot",
    "actor",
    "scene",
    "story",
    "movie",
    "cast",
    "script",
    "music",
    "ending",
    "camera",
    "pace",
)


def sentiment_texts(count: int, *, seed: int) -> list[tuple[str, str]]:
    """`count` made-up reviews with their true sentiment: a few words of the class among
    neutral ones, and now and then a word of the other class, so a model has to weigh words
    rather than look one up. Deterministic for a seed."""
    rng = random.Random(seed)  # noqa: S311 - made-up data, not secrets
    reviews = []
    for index in range(count):
        label = "Positive" if index % 2 == 0 else "Negative"
        own, other = (_POSITIVE, _NEGATIVE) if label == "Positive" else (_NEGATIVE, _POSITIVE)
        words = rng.sample(_NEUTRAL, 5) + rng.sample(own, 2)
        if rng.random() < 0.3:
            words.append(rng.choice(other))
        rng.shuffle(words)
        reviews.append((" ".join(words), label))
    return reviews


def choice_annotation(annotation_id: int, label: str) -> dict[str, object]:
    """An annotation of `SENTIMENT_CONFIG` in Label Studio's shape."""
    return {
        "id": annotation_id,
        "was_cancelled": False,
        "result": [
            {
                "id": f"r{annotation_id}",
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [label]},
            }
        ],
    }
