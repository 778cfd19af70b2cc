"""A small real ML backend for tests: Label Studio's protocol over a real HTTP server.

It answers `/health`, `/setup`, `/predict`, `/webhook`, `/train` and `/versions` the way a
`label-studio-ml` backend does, classifying text by a keyword, and records every request.
`behaviour` switches it into the failures ml-gateway must survive: hanging, answering
500, answering a body that is not JSON, or results that do not fit the labeling config.
It is a protocol peer, not a model: the reference backends under `examples/` are the
real models.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Behaviour(StrEnum):
    NORMAL = "normal"
    HANG = "hang"
    ERROR_500 = "error_500"
    MALFORMED_JSON = "malformed_json"
    MISFIT_RESULTS = "misfit_results"
    #: Not the protocol at all: an HTML page on every path (a web server, not a backend).
    NOT_A_BACKEND = "not_a_backend"
    #: The faulty paths answer 404 (an older backend without `/webhook`).
    NOT_FOUND = "not_found"


@dataclass
class Received:
    method: str
    path: str
    body: Any
    authorization: str | None


@dataclass
class ProtocolBackend:
    """The server's state; tests read `received` and set `behaviour` (for predict/train)."""

    url: str = ""
    behaviour: Behaviour = Behaviour.NORMAL
    #: Paths the behaviour applies to (others answer normally).
    faulty_paths: tuple[str, ...] = ("/predict",)
    model_version: str = "keyword-1"
    control: str = "sentiment"
    target: str = "text"
    data_key: str = "text"
    positive_word: str = "good"
    #: Tasks whose text holds this word get a result that does not fit the config.
    misfit_word: str | None = None
    #: Tasks whose text holds this word get an entry without a result (no prediction).
    silent_word: str | None = None
    #: `(user, password)` the backend requires, if any.
    basic_auth: tuple[str, str] | None = None
    #: When above 0, only this many calls of the faulty paths misbehave; later ones work.
    fail_first: int = 0
    #: How long a hanging call hangs at most (it is released when the server stops).
    hang_seconds: float = 30.0
    #: Every `/predict` call answers after this many seconds (a slow model), normally.
    predict_delay_seconds: float = 0.0
    received: list[Received] = field(default_factory=list)
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path.split("?")[0] == path]

    def misbehaves_now(self) -> bool:
        if self.behaviour == Behaviour.NORMAL:
            return False
        with self._lock:
            if self.fail_first <= 0:
                return True
            faulty = sum(1 for r in self.received if r.path.split("?")[0] in self.faulty_paths)
            return faulty <= self.fail_first

    def predicted_task_ids(self) -> list[int]:
        return [task["id"] for call in self.calls("/predict") for task in call.body["tasks"]]

    def prediction(self, task: dict[str, Any]) -> dict[str, Any]:
        text = str(task.get("data", {}).get(self.data_key, ""))
        if self.silent_word is not None and self.silent_word in text.lower():
            return {}
        positive = self.positive_word in text.lower()
        label = "Positive" if positive else "Negative"
        misfit = self.misfit_word is not None and self.misfit_word in text.lower()
        if self.behaviour == Behaviour.MISFIT_RESULTS or misfit:
            label = "Furious"  # not a choice of the config
        return {
            "result": [
                {
                    "from_name": self.control,
                    "to_name": self.target,
                    "type": "choices",
                    "value": {"choices": [label]},
                }
            ],
            "score": 0.9 if positive else 0.6,
            "model_version": self.model_version,
        }


def _handler(state: ProtocolBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            return None

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw) if raw else None
            except ValueError:
                return raw.decode("utf-8", "replace")

        def _send(self, status: int, payload: Any, *, raw: bytes | None = None) -> None:
            body = raw if raw is not None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if raw is None else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            if state.basic_auth is None:
                return True
            expected = base64.b64encode(":".join(state.basic_auth).encode()).decode()
            return self.headers.get("Authorization") == f"Basic {expected}"

        def _handle(self, method: str) -> None:
            body = self._body() if method == "POST" else None
            path = self.path.split("?")[0]
            with state._lock:
                state.received.append(
                    Received(method, self.path, body, self.headers.get("Authorization"))
                )
            if state.behaviour == Behaviour.NOT_A_BACKEND:
                self._send(200, None, raw=b"<html><body>It works!</body></html>")
                return
            if not self._authorized():
                self._send(401, {"detail": "Unauthorized"})
                return
            if path in state.faulty_paths and state.misbehaves_now():
                if state.behaviour == Behaviour.HANG:
                    state._release.wait(state.hang_seconds)
                    self._send(504, {"detail": "hung"})
                    return
                if state.behaviour == Behaviour.NOT_FOUND:
                    self._send(404, {"detail": "not found"})
                    return
                if state.behaviour == Behaviour.ERROR_500:
                    self._send(500, {"detail": "model crashed: CUDA out of memory"})
                    return
                if state.behaviour == Behaviour.MALFORMED_JSON:
                    self._send(200, None, raw=b'{"results": [{"result": [')
                    return
            if path == "/health":
                self._send(200, {"status": "UP", "model_class": "KeywordModel"})
            elif path == "/setup":
                self._send(200, {"model_version": state.model_version})
            elif path == "/predict":
                if state.predict_delay_seconds:
                    state._release.wait(state.predict_delay_seconds)
                tasks = body.get("tasks", []) if isinstance(body, dict) else []
                self._send(200, {"results": [state.prediction(task) for task in tasks]})
            elif path == "/webhook":
                action = body.get("action") if isinstance(body, dict) else None
                if action in {
                    "ANNOTATION_CREATED",
                    "ANNOTATION_UPDATED",
                    "ANNOTATIONS_DELETED",
                    "START_TRAINING",
                }:
                    self._send(
                        201, {"result": {"model_version": state.model_version}, "status": "ok"}
                    )
                else:
                    self._send(200, {"status": "Unknown event"})
            elif path == "/train":
                self._send(200, {"job": "train-1"})
            elif path == "/versions":
                self._send(200, {"versions": [state.model_version, "keyword-0"]})
            else:
                self._send(404, {"detail": "not found"})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A caller that went away mid-answer (a worker killed by a test) is not an error
        # of the backend; anything else is printed as usual.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def running_backend(**options: Any) -> Iterator[ProtocolBackend]:
    """A `ProtocolBackend` listening on a free loopback port until the block ends."""
    state = ProtocolBackend(**options)
    server = _Server(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="ml-backend")
    thread.start()
    try:
        yield state
    finally:
        state._release.set()
        server.shutdown()
        server.server_close()
