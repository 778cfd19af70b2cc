"""Request and response shapes of the export endpoints (Label Studio's)."""

from __future__ import annotations

from typing import Any

from labelops_common.http.timestamps import timestamp
from labelops_common.jobs import JobStatus
from pydantic import BaseModel, ConfigDict, Field

from export_svc.exports.models import ConvertedFormat, Export
from export_svc.tasks.stream import Presence

#: Job states in Label Studio's words.
LABEL_STUDIO_STATUS = {
    JobStatus.QUEUED.value: "created",
    JobStatus.RUNNING.value: "in_progress",
    JobStatus.SUCCEEDED.value: "completed",
    JobStatus.FAILED.value: "failed",
    JobStatus.CANCELLED.value: "failed",
}


class TaskFilterOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    view: int | None = Field(default=None, ge=1)
    skipped: Presence | None = None
    finished: Presence | None = None
    annotated: Presence | None = None
    only_with_annotations: bool = False


class AnnotationFilterOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    usual: bool | None = True
    ground_truth: bool | None = None
    skipped: bool | None = None


class SerializationOption(BaseModel):
    model_config = ConfigDict(extra="ignore")

    only_id: bool = False


class SerializationOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    drafts: SerializationOption | None = None
    predictions: SerializationOption | None = None
    annotations__completed_by: SerializationOption | None = None
    include_annotation_history: bool = False
    interpolate_key_frames: bool = False
    download_resources: bool | None = None


class ExportCreate(BaseModel):
    """`POST /api/projects/{id}/exports/`; read-only fields a client echoes back are ignored."""

    model_config = ConfigDict(extra="ignore")

    title: str = Field(default="", max_length=2048)
    task_filter_options: TaskFilterOptions | None = None
    annotation_filter_options: AnnotationFilterOptions | None = None
    serialization_options: SerializationOptions | None = None


class ExportConvert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    export_type: str = Field(min_length=1, max_length=64)
    download_resources: bool | None = None


def converted_fields(converted: ConvertedFormat) -> dict[str, Any]:
    return {
        "id": converted.id,
        "status": LABEL_STUDIO_STATUS.get(converted.status, converted.status),
        "export_type": converted.export_type,
        "traceback": converted.error,
    }


def export_fields(
    export: Export,
    *,
    created_by: dict[str, Any] | None,
    converted: list[ConvertedFormat],
    with_options: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": export.title,
        "id": export.id,
        "created_by": created_by,
        "created_at": timestamp(export.created_at),
        "finished_at": timestamp(export.finished_at),
        "status": LABEL_STUDIO_STATUS.get(export.status, export.status),
        "md5": export.md5,
        "counters": export.counters or {},
        "converted_formats": [converted_fields(item) for item in converted],
    }
    if with_options:
        body["task_filter_options"] = export.task_filter_options
        body["annotation_filter_options"] = export.annotation_filter_options
        body["serialization_options"] = export.serialization_options
    return body
