"""Turning annotations into training examples, and training a project's model on them.

Annotations arrive three ways, all in Label Studio's shapes: one at a time in webhook events
(`ANNOTATION_CREATED`, `ANNOTATION_UPDATED`, `ANNOTATIONS_DELETED`, …), all at once in the
legacy `/train` call (exported tasks), or fetched from the platform's JSON export on
`START_TRAINING` when `/setup` gave a host and token.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import httpx

from . import model
from .labeling_config import ClassificationTarget
from .store import ProjectStore

logger = logging.getLogger(__name__)


def annotation_example(
    task: dict[str, Any], annotation: dict[str, Any], target: ClassificationTarget
) -> dict[str, Any] | None:
    """The (text, chosen label) an annotation teaches, or None when it teaches nothing (a
    skip, no choice for the target tag, a task without the text field)."""
    if annotation.get("was_cancelled"):
        return None
    text = (task.get("data") or {}).get(target.data_field)
    if not isinstance(text, str):
        return None
    for region in annotation.get("result") or []:
        if region.get("from_name") != target.from_name or region.get("type") != "choices":
            continue
        chosen = (region.get("value") or {}).get("choices") or []
        if chosen:
            return {"task": task.get("id"), "text": text, "label": str(chosen[0])}
    return None


def examples_from_tasks(
    tasks: Iterable[dict[str, Any]], target: ClassificationTarget
) -> dict[str, dict[str, Any]]:
    """Examples from exported tasks (each with its `annotations`)."""
    examples: dict[str, dict[str, Any]] = {}
    for task in tasks:
        for annotation in task.get("annotations") or []:
            example = annotation_example(task, annotation, target)
            if example is not None:
                examples[str(annotation.get("id"))] = example
    return examples


def fit_and_save(store: ProjectStore, examples: dict[str, dict[str, Any]]) -> str:
    """Fits on every example and makes the result the project's current model version. The
    caller holds the store's lock."""
    ordered = sorted(examples.values(), key=lambda example: str(example.get("task")))
    pipeline = model.fit(
        [example["text"] for example in ordered], [example["label"] for example in ordered]
    )
    version = store.save_model(pipeline)
    logger.info("trained %s on %d examples", version, len(ordered))
    return version


def fetch_exported_tasks(
    hostname: str, access_token: str, project_id: str, *, timeout: float = 60.0
) -> list[dict[str, Any]]:
    """The project's tasks with annotations, from the platform's JSON export (the same call a
    Label Studio backend makes with the SDK)."""
    headers = {"Authorization": authorization(hostname, access_token, timeout=timeout)}
    response = httpx.get(
        f"{hostname.rstrip('/')}/api/projects/{project_id}/export",
        params={"exportType": "JSON", "download_all_tasks": "false"},
        headers=headers,
        timeout=timeout,
    )
    response.raise_for_status()
    tasks: list[dict[str, Any]] = response.json()
    return tasks


def authorization(hostname: str, access_token: str, *, timeout: float) -> str:
    """`Token <key>` for a legacy key; a personal access token (a JWT refresh token) is
    exchanged for an access token first, as the SDK does."""
    if access_token.count(".") != 2:
        return f"Token {access_token}"
    response = httpx.post(
        f"{hostname.rstrip('/')}/api/token/refresh/",
        json={"refresh": access_token},
        timeout=timeout,
    )
    response.raise_for_status()
    return f"Bearer {response.json()['access']}"
