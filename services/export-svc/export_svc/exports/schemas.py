"""Request and response shapes of the export endpoints (Label Studio's)."""

from __future__ import annotations

from typing import Any, Literal, cast

from labelops_common.directory import PersonAnswer
from labelops_common.http.answers import Timestamp, timestamp
from labelops_common.jobs import JobStatus
from pydantic import BaseModel, ConfigDict, Field

from export_svc.exports.models import ConvertedFormat, Export
from export_svc.formats import catalogue
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
    target_storage_id: int | None = Field(
        default=None,
        ge=1,
        description=(
            "LabelOps' extension (Label Studio has no such field): the id of an export "
            "storage of this project (`/api/storages/export/<type>`). Once the snapshot's "
            "file is complete it is also written there, as "
            "`<prefix>/project-<project>-export-<snapshot>.json`; the snapshot's "
            "`target_storage` says where it went or why it could not. A storage of another "
            "project or organization is refused (400 on this field)."
        ),
    )


class ExportConvert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    export_type: str = Field(min_length=1, max_length=64)
    download_resources: bool | None = None


ExportStatus = Literal["created", "in_progress", "completed", "failed"]


class ExportFormatAnswer(BaseModel):
    """An item of `/export/formats`; `tags` only when the format names them, `disabled`
    only when it does not fit the project's labeling config."""

    title: str
    link: str
    tags: list[str] = Field(default_factory=list)
    name: str
    disabled: bool = False


class ConvertedFormatAnswer(BaseModel):
    id: int
    status: ExportStatus
    export_type: str
    traceback: str | None


class ExportProgress(BaseModel):
    """How far a snapshot is (LabelOps' addition; Label Studio has no such field).

    `tasks_total` is task-svc's count when the job started (None if unknown): an upper
    bound while filters are applied, the exact number once completed.
    """

    tasks_written: int
    tasks_total: int | None


TargetStatus = Literal["queued", "in_progress", "completed", "failed"]


class ExportTargetAnswer(BaseModel):
    """Where a snapshot asked for with `target_storage_id` was written (LabelOps' addition).

    `failed` leaves the snapshot itself completed and downloadable; `error` says why the
    storage did not take the file (never a credential)."""

    storage_id: int
    status: TargetStatus
    uri: str | None
    error: str | None
    written_at: Timestamp | None


class ExportAnswer(BaseModel):
    """A snapshot as Label Studio's `Export`, plus `progress` and `cancelled` (a cancelled
    snapshot is `failed` in Label Studio's statuses), and `target_storage` when the
    snapshot was asked to be written to an export storage."""

    title: str
    id: int
    created_by: PersonAnswer | None
    created_at: Timestamp | None
    finished_at: Timestamp | None
    status: ExportStatus
    md5: str
    counters: dict[str, Any]
    converted_formats: list[ConvertedFormatAnswer]
    progress: ExportProgress
    cancelled: bool
    target_storage: ExportTargetAnswer | None = None


class ExportCreatedAnswer(ExportAnswer):
    """`POST /exports` also echoes the options the snapshot was made with."""

    task_filter_options: dict[str, Any] | None
    annotation_filter_options: dict[str, Any] | None
    serialization_options: dict[str, Any] | None


class ConversionAnswer(BaseModel):
    export_type: str
    converted_format: int


def file_responses() -> dict[int | str, dict[str, Any]]:
    """The download answers: a file in the media type of the format asked for.

    A file served as `application/json` (JSON, JSON_MIN) is a JSON list of task objects, and
    is described so: described as a binary string, every client and checker that parses JSON
    answers found a list where a string was promised.
    """
    binary = {"schema": FILE_SCHEMA}
    json_file = {"schema": JSON_FILE_SCHEMA}
    media_types = sorted({export_format.media_type for export_format in catalogue()})
    return {
        200: {
            "description": "The export file, streamed, as an attachment.",
            "content": {
                media_type: json_file if media_type == "application/json" else binary
                for media_type in media_types
            },
        }
    }


FILE_SCHEMA: dict[str, Any] = {"type": "string", "format": "binary"}
#: The JSON exports' files: a list of tasks (JSON) or of flattened rows (JSON_MIN).
JSON_FILE_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "object", "additionalProperties": True},
}


def converted_fields(converted: ConvertedFormat) -> ConvertedFormatAnswer:
    return ConvertedFormatAnswer(
        id=converted.id,
        status=_status(converted.status),
        export_type=converted.export_type,
        traceback=converted.error,
    )


def export_fields(
    export: Export,
    *,
    created_by: dict[str, Any] | None,
    converted: list[ConvertedFormat],
) -> ExportAnswer:
    return ExportAnswer(**_export_values(export, created_by=created_by, converted=converted))


def created_export_fields(
    export: Export, *, created_by: dict[str, Any] | None
) -> ExportCreatedAnswer:
    return ExportCreatedAnswer(
        **_export_values(export, created_by=created_by, converted=[]),
        task_filter_options=export.task_filter_options,
        annotation_filter_options=export.annotation_filter_options,
        serialization_options=export.serialization_options,
    )


def _export_values(
    export: Export, *, created_by: dict[str, Any] | None, converted: list[ConvertedFormat]
) -> dict[str, Any]:
    # Only a targeted snapshot names `target_storage`: Label Studio's answers stay as they are.
    target = (
        {
            "target_storage": ExportTargetAnswer(
                storage_id=export.target_storage_id,
                status=cast(TargetStatus, export.target_status or "queued"),
                uri=export.target_uri,
                error=export.target_error,
                written_at=timestamp(export.target_written_at),
            )
        }
        if export.target_storage_id is not None
        else {}
    )
    return target | {
        "title": export.title,
        "id": export.id,
        "created_by": PersonAnswer.model_validate(created_by) if created_by else None,
        "created_at": timestamp(export.created_at),
        "finished_at": timestamp(export.finished_at),
        "status": _status(export.status),
        "md5": export.md5,
        "counters": export.counters or {},
        "converted_formats": [converted_fields(item) for item in converted],
        "progress": ExportProgress(tasks_written=export.progress or 0, tasks_total=export.total),
        "cancelled": export.status == JobStatus.CANCELLED.value,
    }


def _status(status: str) -> ExportStatus:
    return cast(ExportStatus, LABEL_STUDIO_STATUS.get(status, status))
