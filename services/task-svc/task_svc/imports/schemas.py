"""Import request bodies (the import body itself is streamed, not a schema)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReimportBody(BaseModel):
    """`POST /api/projects/{id}/reimport`."""

    model_config = ConfigDict(extra="ignore")

    file_upload_ids: list[int] = []
    files_as_tasks_list: bool = True


class FileUploadsDelete(BaseModel):
    """`DELETE /api/projects/{id}/file-uploads`: no ids means every upload of the project."""

    model_config = ConfigDict(extra="ignore")

    file_upload_ids: list[int] | None = None
