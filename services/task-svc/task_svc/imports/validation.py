"""Checking import items the way the single-task endpoints do, and preparing their rows.

Every item becomes a `PreparedTask`: its JSON already serialised once (COPY writes that
text), its annotations and predictions as column values, and the task's counters
computed from them, or an `ImportItemError` naming the item, the field and the reason.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from labelops_common.directory import ProjectInfo
from labelops_common.labelconfig import (
    substitute_undefined_key,
    validate_result,
    validate_task_data,
)
from labelops_common.labelconfig.tags import LABELED_CONTROL_TAGS

from task_svc.counts import service as counts

#: Model version of an imported prediction that names none (Label Studio's default).
UNDEFINED_MODEL_VERSION = "undefined"


_SOURCE_KEY_MAX = 1024


#: `\u0000` in JSON text that is an escape (not an escaped backslash followed by "u0000").
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


_MODEL_VERSION_MAX = 255


class ImportItemError(Exception):
    """One item is not a valid task; nothing of the import may be kept.

    `index` is the item's 0-based position, `field` the path inside the item
    (`data`, `annotations[0].result[1].value.choices`, ...), `reason` a sentence.
    """

    def __init__(self, index: int, field: str, reason: str) -> None:
        self.index = index
        self.field = field
        self.reason = reason
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """Label Studio's wording: `Error at item 3: "text" key is expected in task data`."""
        where = "" if self.field in ("", "data") else f"{self.field}: "
        return f"Error at item {self.index}: {where}{self.reason}"

    def shifted(self, offset: int) -> ImportItemError:
        """The same error with the index counted from an earlier start (several files)."""
        return ImportItemError(self.index + offset, self.field, self.reason)


class JsonText(NamedTuple):
    """A JSON column value with its text, serialized once while validating (COPY uses it).

    Named tuples, not dataclasses: at a million tasks a dataclass's `__init__` per value
    costs a noticeable share of the import.
    """

    value: Any
    text: str


_EMPTY_META = JsonText({}, "{}")


class PreparedTask(NamedTuple):
    """One validated item: the task's column values and its children's, without task_id."""

    data: JsonText
    meta: JsonText
    source_key: str | None
    annotations: Sequence[dict[str, Any]]
    predictions: Sequence[dict[str, Any]]
    total_annotations: int
    cancelled_annotations: int
    useful_annotations: int
    #: Distinct authors of finished annotations; `is_labeled` once the task's overlap is set.
    finished_annotators: int
    predictions_score: float | None
    ground_truth: int


@dataclass(frozen=True)
class ItemContext:
    project: ProjectInfo
    user_id: int | None
    user_email: str


def _dump(value: Any, index: int, where: str) -> JsonText:
    """Compact JSON; NaN/Infinity and NUL characters are refused (PostgreSQL's JSONB cannot
    store them)."""
    try:
        # orjson is several times faster than json.dumps, which matters at a million
        # tasks; it writes NaN and Infinity as null, so text with a null is checked again.
        encoded = orjson.dumps(value)
        dumped = encoded.decode()
        if b"null" in encoded:
            dumped = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise ImportItemError(index, where, "NaN and Infinity are not valid JSON.") from None
    except TypeError as exc:
        raise ImportItemError(index, where, f"Not JSON-serializable: {exc}.") from None
    if "\\u0000" in dumped and _NUL_ESCAPE.search(dumped):
        raise ImportItemError(index, where, "Text must not contain NUL (\\u0000) characters.")
    return JsonText(value, dumped)


def prepare_task(context: ItemContext, item: Any, index: int, now: datetime) -> PreparedTask:
    project = context.project
    if not isinstance(item, dict):
        raise ImportItemError(index, "", "Each task must be a JSON object.")
    data = item.get("data")
    if not isinstance(data, dict):
        raise ImportItemError(index, "data", 'The "data" field must be a JSON object.')
    if project.config is not None:
        data = substitute_undefined_key(project.config, data)
        problems = validate_task_data(project.config, data)
        if problems:
            raise ImportItemError(index, "data", "; ".join(problems))
    meta = item.get("meta")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ImportItemError(index, "meta", "Must be a JSON object.")
    source_key = item.get("source_key")
    if source_key is not None and (
        not isinstance(source_key, str) or len(source_key) > _SOURCE_KEY_MAX
    ):
        raise ImportItemError(
            index, "source_key", f"Must be a string of at most {_SOURCE_KEY_MAX} characters."
        )
    raw_annotations = _list_of(item, "annotations", index)
    raw_predictions = _list_of(item, "predictions", index)
    if not raw_annotations and not raw_predictions:
        # Most imported tasks are bare data: skip the counting below (a million times).
        return PreparedTask(
            data=_dump(data, index, "data"),
            meta=_dump(meta, index, "meta") if meta else _EMPTY_META,
            source_key=source_key,
            annotations=(),
            predictions=(),
            total_annotations=0,
            cancelled_annotations=0,
            useful_annotations=0,
            finished_annotators=0,
            predictions_score=None,
            ground_truth=0,
        )
    annotations = [
        _prepare_annotation(context, raw, index, position, now)
        for position, raw in enumerate(raw_annotations)
    ]
    predictions = [
        _prepare_prediction(project, raw, index, position, now)
        for position, raw in enumerate(raw_predictions)
    ]
    finished = [
        annotation
        for annotation in annotations
        if counts.counts_as_finished(annotation["was_cancelled"], skip_queue=project.skip_queue)
    ]
    annotators = {annotation["completed_by_id"] for annotation in finished}
    scores = [p["score"] for p in predictions if p["score"] is not None]
    return PreparedTask(
        data=_dump(data, index, "data"),
        meta=_dump(meta, index, "meta"),
        source_key=source_key,
        annotations=annotations,
        predictions=predictions,
        total_annotations=sum(1 for a in annotations if not a["was_cancelled"]),
        cancelled_annotations=sum(1 for a in annotations if a["was_cancelled"]),
        useful_annotations=sum(
            1 for a in annotations if not a["was_cancelled"] and not a["ground_truth"]
        ),
        finished_annotators=len(annotators),
        predictions_score=sum(scores) / len(scores) if scores else None,
        ground_truth=sum(1 for a in annotations if a["ground_truth"]),
    )


def _list_of(item: dict[str, Any], key: str, index: int) -> list[Any]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportItemError(index, key, "Must be a list.")
    return value


def _result(raw: Any, index: int, where: str) -> list[Any]:
    """A result list; Label Studio also accepts it as a JSON-encoded string."""
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ImportItemError(index, where, "Must be a list of regions.") from None
    if not isinstance(raw, list):
        raise ImportItemError(index, where, "Must be a list of regions.")
    return raw


def _check_regions(project: ProjectInfo, result: list[Any], index: int, where: str) -> None:
    """Regions checked against the config as the annotation endpoints do; the first problem
    is reported with its full path (`annotations[0].result[1].value.choices`)."""
    if project.config is None:
        return
    problems = validate_result(project.config, result)
    if problems:
        path, _, reason = problems[0].partition(": ")
        if not reason:
            path, reason = "result", problems[0]
        raise ImportItemError(index, f"{where}.{path}", reason)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _flag(raw: Any, default: bool, index: int, where: str) -> bool:
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    raise ImportItemError(index, where, "Must be a boolean.")


def _completed_by(context: ItemContext, raw: Any, index: int, where: str) -> int | None:
    """An int user id, `{"email": ...}` (only the importer's own email is known here),
    `{"id": ...}`, or missing (the importer)."""
    if raw is None:
        return context.user_id
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, dict):
        email = raw.get("email")
        if isinstance(email, str) and email:
            if context.user_email and email.strip().lower() == context.user_email:
                return context.user_id
            raise ImportItemError(index, f"{where}.email", f"Unknown user email {email!r}.")
        user = raw.get("id")
        if isinstance(user, int) and not isinstance(user, bool):
            return user
    raise ImportItemError(index, where, 'Must be a user id or {"email": "..."}.')


def _prepare_annotation(
    context: ItemContext, raw: Any, index: int, position: int, now: datetime
) -> dict[str, Any]:
    where = f"annotations[{position}]"
    if not isinstance(raw, dict):
        raise ImportItemError(index, where, "Must be a JSON object.")
    result = _result(raw.get("result"), index, f"{where}.result")
    was_cancelled = _flag(raw.get("was_cancelled"), False, index, f"{where}.was_cancelled")
    # Label Studio's import quirk: imported annotations are ground truth unless told otherwise.
    ground_truth = _flag(raw.get("ground_truth"), True, index, f"{where}.ground_truth")
    if not was_cancelled:
        _check_regions(context.project, result, index, where)
    lead_time = raw.get("lead_time")
    if lead_time is not None:
        if isinstance(lead_time, bool) or not isinstance(lead_time, int | float):
            raise ImportItemError(index, f"{where}.lead_time", "Must be a number of seconds.")
        lead_time = float(lead_time)
        if not math.isfinite(lead_time):
            raise ImportItemError(index, f"{where}.lead_time", "Must be a finite number.")
    raw_id: Any = raw.get("id")
    import_id = raw_id if _is_int(raw_id) and -(2**63) <= raw_id < 2**63 else None
    return {
        "completed_by_id": _completed_by(context, raw.get("completed_by"), index, f"{where}.completed_by"),
        "updated_by_id": context.user_id,
        "result": _dump(result, index, f"{where}.result"),
        "was_cancelled": was_cancelled,
        "ground_truth": ground_truth,
        "created_at": now,
        "updated_at": now,
        "lead_time": lead_time,
        "import_id": import_id,
        "last_action": "imported",
        "bulk_created": True,
    }  # fmt: skip


def _short_result(project: ProjectInfo, value: Any, index: int, where: str) -> list[Any]:
    """Label Studio turns a bare prediction value into one region of the first labeled control."""
    config = project.config
    control = None
    if config is not None:
        control = next(
            (c for c in config.controls.values() if c.tag in LABELED_CONTROL_TAGS), None
        ) or next(iter(config.controls.values()), None)
    if control is None or not control.to_names:
        raise ImportItemError(index, where, "Must be a list of regions.")
    return [
        {
            "from_name": control.name,
            "to_name": control.to_names[0],
            "type": control.type,
            "value": {control.type: value if isinstance(value, list) else [value]},
        }
    ]


def _score(raw: Any) -> float | None:
    """Cast to float as Label Studio does; anything that is not a finite number is null."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        score = float(raw)
    except (TypeError, ValueError):
        return None
    return score if math.isfinite(score) else None


def _prepare_prediction(
    project: ProjectInfo, raw: Any, index: int, position: int, now: datetime
) -> dict[str, Any]:
    where = f"predictions[{position}]"
    if not isinstance(raw, dict):
        raise ImportItemError(index, where, "Must be a JSON object.")
    value = raw.get("result")
    if isinstance(value, dict):
        result: list[Any] = [value]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = _short_result(project, value, index, f"{where}.result")
    elif isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        result = (
            parsed
            if isinstance(parsed, list)
            else _short_result(project, value, index, f"{where}.result")
        )
    else:
        result = _result(value, index, f"{where}.result")
    _check_regions(project, result, index, where)
    model_version = raw.get("model_version")
    model_version = UNDEFINED_MODEL_VERSION if model_version is None else str(model_version)
    if len(model_version) > _MODEL_VERSION_MAX:
        raise ImportItemError(
            index, f"{where}.model_version", f"At most {_MODEL_VERSION_MAX} characters."
        )
    return {
        "result": _dump(result, index, f"{where}.result"),
        "score": _score(raw.get("score")),
        "model_version": model_version,
        "mislabeling": 0.0,
        "created_at": now,
        "updated_at": now,
    }


def prepare_prediction(project: ProjectInfo, raw: Any, index: int, now: datetime) -> dict[str, Any]:
    """One stand-alone prediction's column values (no task_id), validated as on import."""
    try:
        return _prepare_prediction(project, raw, index, 0, now)
    except ImportItemError as exc:
        path = exc.field.removeprefix("predictions[0]").removeprefix(".")
        raise ImportItemError(index, path, exc.reason) from None
