"""The HTTP side: Label Studio's ML-backend protocol, call by call.

| call | body | answer |
| --- | --- | --- |
| `GET /health` | - | `{"status": "UP", "model_class": …}` |
| `POST /setup` | `project`, `schema`, `hostname`, `access_token`, `extra_params` | `{"model_version"}` |
| `POST /predict` | `tasks`, `project`, `label_config`, `params` | `{"results": [one per task], "model_version"}` |
| `POST /webhook` | `action` and the event's objects | 201 `{"result", "status": "ok"}`; other actions 200 `{"status": "Unknown event"}` |
| `POST /train` | `annotations` (exported tasks), `project`, `label_config` | 201 `{"job", "model_version"}` |
| `GET`/`POST /versions` | `project` | `{"versions": […]}` |
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from . import model, training
from .labeling_config import ClassificationTarget, UnsupportedConfig, classification_target
from .store import ProjectStore, project_key

logger = logging.getLogger(__name__)

MODEL_CLASS = "TfidfLogisticRegression"
TRAIN_EVENTS = {"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED"}
DELETE_EVENTS = {"ANNOTATION_DELETED", "ANNOTATIONS_DELETED"}


class BadRequest(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Backend:
    """The model server's state: a folder of projects, and the fitted models this process has
    loaded (reloaded when another process trains a newer version)."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self._loaded: dict[str, tuple[str, Any]] = {}
        self._loaded_lock = threading.Lock()

    def store(self, project: Any) -> ProjectStore:
        try:
            return ProjectStore(self.model_dir, project_key(project))
        except ValueError as error:
            raise BadRequest(str(error)) from error

    def current_model(self, store: ProjectStore) -> tuple[str, Any] | None:
        version = store.current_version()
        if version is None:
            return None
        key = store.path.name
        with self._loaded_lock:
            loaded = self._loaded.get(key)
            if loaded is None or loaded[0] != version:
                loaded = (version, store.load_model(version))
                self._loaded[key] = loaded
            return loaded


def target_for(label_config: Any) -> ClassificationTarget:
    if not isinstance(label_config, str) or not label_config.strip():
        raise BadRequest("no labeling config: `/setup` first, or send `label_config`")
    try:
        return classification_target(label_config)
    except UnsupportedConfig as error:
        raise BadRequest(str(error)) from error


def create_app() -> FastAPI:
    model_dir = Path(os.environ.get("MODEL_DIR", "models")).resolve()
    backend = Backend(model_dir)
    basic_user = os.environ.get("BASIC_AUTH_USER", "")
    basic_pass = os.environ.get("BASIC_AUTH_PASS", "")
    app = FastAPI(title="sklearn text classifier (Label Studio ML backend)")

    @app.middleware("http")
    async def require_basic_auth(request: Request, call_next: Any) -> Any:
        """With `BASIC_AUTH_USER`/`BASIC_AUTH_PASS` set, every call needs them (the
        platform's `auth_method: BASIC_AUTH`)."""
        if basic_user:
            expected = "Basic " + base64.b64encode(f"{basic_user}:{basic_pass}".encode()).decode()
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return JSONResponse(
                    {"error": "authentication required"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="ml-backend"'},
                )
        return await call_next(request)

    @app.exception_handler(BadRequest)
    async def bad_request(_: Request, error: BadRequest) -> JSONResponse:
        return JSONResponse({"error": error.reason}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def unreadable_body(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)

    # The handlers are plain functions: FastAPI runs them in its thread pool, so fitting or
    # predicting never holds up the event loop (and /health keeps answering).
    @app.get("/")
    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "UP", "model_class": MODEL_CLASS}

    @app.post("/setup")
    def setup(body: dict[str, Any]) -> dict[str, Any]:
        store = backend.store(body.get("project"))
        target_for(body.get("schema"))
        with store.locked():
            store.save_setup(
                {
                    "label_config": body.get("schema"),
                    "hostname": body.get("hostname") or "",
                    "access_token": body.get("access_token") or "",
                    "extra_params": body.get("extra_params"),
                }
            )
        return {"model_version": store.current_version() or ""}

    @app.post("/predict")
    def predict(body: dict[str, Any]) -> dict[str, Any]:
        tasks = body.get("tasks")
        if not isinstance(tasks, list) or not all(isinstance(task, dict) for task in tasks):
            raise BadRequest("`tasks` must be a list of task objects")
        store = backend.store(body.get("project"))
        target = target_for(body.get("label_config") or store.setup().get("label_config"))
        current = backend.current_model(store)
        if current is None:
            # Not trained yet: no prediction for any task (one empty list per task keeps the
            # answer's length equal to the number of tasks).
            return {"results": [[] for _ in tasks], "model_version": ""}
        version, pipeline = current
        texts = [(task.get("data") or {}).get(target.data_field) for task in tasks]
        readable = [index for index, text in enumerate(texts) if isinstance(text, str)]
        predictions = model.predict(pipeline, [str(texts[index]) for index in readable])
        # A task without the text field gets no prediction, in its place.
        results: list[Any] = [[] for _ in tasks]
        for index, prediction in zip(readable, predictions, strict=True):
            results[index] = {
                "result": [
                    {
                        "from_name": target.from_name,
                        "to_name": target.to_name,
                        "type": "choices",
                        "value": {"choices": [prediction.label]},
                        "score": prediction.score,
                    }
                ],
                "score": prediction.score,
                "model_version": version,
            }
        return {"results": results, "model_version": version}

    @app.post("/webhook")
    def webhook(body: dict[str, Any]) -> JSONResponse:
        action = body.get("action")
        if action not in TRAIN_EVENTS | DELETE_EVENTS | {"START_TRAINING"}:
            return JSONResponse({"status": "Unknown event"}, status_code=200)
        project = body.get("project") or {}
        store = backend.store(project)
        label_config = (project if isinstance(project, dict) else {}).get("label_config")
        target = target_for(label_config or store.setup().get("label_config"))
        with store.locked():
            examples = store.examples()
            if action == "START_TRAINING":
                examples = start_training_examples(store, project, target, examples)
            elif action in DELETE_EVENTS:
                for deleted in as_list(body.get("annotations") or body.get("annotation")):
                    examples.pop(str(deleted.get("id")), None)
            else:
                tasks = as_list(body.get("task"))
                annotations = as_list(body.get("annotation"))
                for task, annotation in zip(tasks, annotations, strict=False):
                    example = training.annotation_example(task, annotation, target)
                    if example is None:
                        examples.pop(str(annotation.get("id")), None)
                    else:
                        examples[str(annotation.get("id"))] = example
            store.save_examples(examples)
            try:
                version = training.fit_and_save(store, examples)
            except model.NotEnoughExamples as reason:
                return JSONResponse(
                    {"result": {"trained": False, "reason": str(reason)}, "status": "ok"},
                    status_code=201,
                )
        return JSONResponse(
            {
                "result": {"trained": True, "model_version": version, "examples": len(examples)},
                "status": "ok",
            },
            status_code=201,
        )

    @app.post("/train")
    def train(body: dict[str, Any]) -> JSONResponse:
        annotated = body.get("annotations")
        if not isinstance(annotated, list):
            raise BadRequest("`annotations` must be a list of exported tasks")
        store = backend.store(body.get("project"))
        target = target_for(body.get("label_config") or store.setup().get("label_config"))
        with store.locked():
            examples = training.examples_from_tasks(annotated, target)
            store.save_examples(examples)
            try:
                version = training.fit_and_save(store, examples)
            except model.NotEnoughExamples as reason:
                raise BadRequest(str(reason)) from reason
        return JSONResponse({"job": version, "model_version": version}, status_code=201)

    @app.get("/versions")
    def versions_get(project: str) -> dict[str, Any]:
        return {"versions": backend.store(project).versions()}

    @app.post("/versions")
    def versions_post(body: dict[str, Any]) -> dict[str, Any]:
        return {"versions": backend.store(body.get("project")).versions()}

    return app


def as_list(value: Any) -> list[dict[str, Any]]:
    """Label Studio keeps the key singular for bulk events (`annotation: [...]`)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def start_training_examples(
    store: ProjectStore,
    project: Any,
    target: ClassificationTarget,
    examples: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """On `START_TRAINING`, every annotation of the project from the platform's export when
    `/setup` (or `LABEL_STUDIO_URL`/`LABEL_STUDIO_API_KEY`) says how to reach it; otherwise
    the examples the webhook events brought."""
    setup = store.setup()
    hostname = setup.get("hostname") or os.environ.get("LABEL_STUDIO_URL", "")
    token = setup.get("access_token") or os.environ.get("LABEL_STUDIO_API_KEY", "")
    if not (hostname and token):
        return examples
    project_id = store.path.name
    try:
        tasks = training.fetch_exported_tasks(hostname, token, project_id)
    except Exception as error:
        raise BadRequest(f"could not read the project's annotations: {error}") from error
    return training.examples_from_tasks(tasks, target)
