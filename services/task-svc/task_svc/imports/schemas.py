"""Import request bodies (the import body itself is streamed, not a schema) and the
answers of the import routes (Label Studio's, and Label Studio Enterprise's import object)."""

from __future__ import annotations

from typing import Any, Literal

from labelops_common.http.answers import Timestamp
from pydantic import BaseModel, ConfigDict, Field


class ReimportBody(BaseModel):
    """`POST /api/projects/{id}/reimport`."""

    model_config = ConfigDict(extra="ignore")

    file_upload_ids: list[int] = []
    files_as_tasks_list: bool = True


class FileUploadsDelete(BaseModel):
    """`DELETE /api/projects/{id}/file-uploads`: no ids means every upload of the project."""

    model_config = ConfigDict(extra="ignore")

    file_upload_ids: list[int] | None = None


class ImportResultAnswer(BaseModel):
    """The synchronous answer of an import. Without `commit_to_project` nothing is written:
    `task_count` counts the parsed tasks and the other counts are null. `found_formats`
    counts the uploaded files by extension (an empty list when there were none);
    `task_ids` is there with `return_task_ids` only."""

    task_count: int
    annotation_count: int | None
    prediction_count: int | None
    duration: float
    file_upload_ids: list[int]
    could_be_tasks_list: bool
    found_formats: dict[str, int] | list[str]
    data_columns: list[str]
    task_ids: list[int] | None = None


class ImportQueuedAnswer(BaseModel):
    """A large import runs as a job: `GET /api/projects/{id}/imports/{import}` follows it."""

    import_id: int = Field(alias="import")


#: `POST /api/projects/{id}/import` (and its aliases): served as built, see the router.
ImportAnswer = ImportResultAnswer | ImportQueuedAnswer


class ReimportAnswer(BaseModel):
    """Label Studio's reimport object (`ProjectReimport`)."""

    id: int
    project: int | None
    status: str
    error: str | None
    task_count: int
    annotation_count: int | None
    prediction_count: int | None
    duration: float | None
    file_upload_ids: list[int]
    files_as_tasks_list: bool
    found_formats: dict[str, int] | list[str]
    data_columns: list[str]


class ImportJobAnswer(BaseModel):
    """Label Studio Enterprise's import object, which the legacy SDK polls."""

    id: int
    project: int
    status: Literal["created", "in_progress", "completed", "failed"]
    error: str | None
    task_count: int
    annotation_count: int | None
    prediction_count: int | None
    duration: float | None
    file_upload_ids: list[int]
    could_be_tasks_list: bool
    found_formats: dict[str, int] | list[str]
    data_columns: list[str]
    task_ids: list[int] | None
    url: str | None
    commit_to_project: bool
    return_task_ids: bool
    preannotated_from_fields: list[str] | None
    progress: int | None
    total: int | None
    created_at: Timestamp
    updated_at: Timestamp | None
    finished_at: Timestamp | None


class PredictionsImportedAnswer(BaseModel):
    created: int


class FileUploadAnswer(BaseModel):
    """A stored upload; `file` is its key in the artifact storage (`upload/<project>/...`)."""

    id: int
    file: str
    size: int


class FileUploadsDeletedAnswer(BaseModel):
    deleted: int


#: The uploaded file itself (local disk), a redirect to a presigned URL, or the bytes
#: streamed from the object store.
UPLOADED_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The uploaded file, in its own media type.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    302: {"description": "A redirect to a presigned URL of the object store."},
}
