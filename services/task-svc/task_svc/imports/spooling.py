"""Receiving an import's body: raw bodies streamed into the artifact storage as they
arrive, multipart files spooled by Starlette and copied there, `url=` forms stored as
inline tasks or downloaded through the outbound address policy. Nothing is read whole; whatever a failed request stored is deleted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote

import httpx
from fastapi import Request
from labelops_common.artifacts import (
    ArtifactStorage,
    ArtifactStorageError,
)
from labelops_common.http.errors import (
    ApiError,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)
from labelops_common.outbound import OutboundRefused, outbound_policy
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from task_svc.imports import service as imports
from task_svc.imports import uploads
from task_svc.imports.formats import ALLOWED_EXTENSIONS
from task_svc.settings import Settings

logger = logging.getLogger(__name__)

#: Raw body media types and the extension whose parser reads them.
RAW_TYPES: dict[str, str] = {
    "": ".json",
    "application/json": ".json",
    "text/json": ".json",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/x-jsonlines": ".jsonl",
    "application/json-lines": ".jsonl",
    "text/csv": ".csv",
    "application/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "text/plain": ".txt",
}
_FORM_FIELD_MAX = 16 * 1024 * 1024


class UnsupportedMediaType(ApiError):
    status_code = 415
    default_detail = "Unsupported media type in request."


@contextmanager
def storage_reachable() -> Iterator[None]:
    """An object store that cannot be reached is a 503 the client may retry, not a 500."""
    try:
        yield
    except ArtifactStorageError as error:
        logger.warning("artifact storage unavailable: %s", error)
        raise ServiceUnavailable("The file storage is unavailable, try again shortly.") from None


@dataclass
class Received:
    """What the request carried, stored: uploads to register and spooled raw bodies."""

    uploads: list[tuple[str, str, int]] = field(default_factory=list)  # (key, name, size)
    bodies: list[tuple[str, str]] = field(default_factory=list)  # (key, parser name)
    size: int = 0

    def all_paths(self) -> list[str]:
        return [path for path, _, _ in self.uploads] + [path for path, _ in self.bodies]


def check_length(request: Request, settings: Settings) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.import_max_bytes:
        raise PayloadTooLarge(f"The import is larger than {settings.import_max_bytes} bytes.")


async def receive_body(
    request: Request,
    settings: Settings,
    storage: ArtifactStorage,
    *,
    keep_body: bool,
    project_id: int,
) -> Received:
    """Store the body; `keep_body` stores raw bodies as uploads (commit_to_project=false)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    received = Received()
    try:
        if media_type == "multipart/form-data":
            await _receive_multipart(request, settings, storage, received, project_id)
        elif media_type == "application/x-www-form-urlencoded":
            await _receive_url_form(request, settings, storage, received, keep_body, project_id)
        else:
            extension = RAW_TYPES.get(media_type)
            if extension is None and media_type.endswith("+json"):
                extension = ".json"
            if extension is None:
                raise UnsupportedMediaType(f'Unsupported media type "{media_type}" in request.')
            name = f"import{extension}"
            path = (
                uploads.new_upload_path(project_id, name)
                if keep_body
                else uploads.new_body_path(extension)
            )
            size = await uploads.spool_stream(
                storage, path, request.stream(), max_bytes=settings.import_max_bytes
            )
            if size == 0:
                await uploads.run_cleanup(uploads.remove, storage, path)
                raise imports.item_error("load_tasks: No data found in DATA or in FILES")
            _add_body(received, path, name, size, keep_body)
    except BaseException:
        await uploads.run_cleanup(discard, storage, received.all_paths())
        raise
    return received


def _add_body(received: Received, path: str, name: str, size: int, keep: bool) -> None:
    if keep:
        received.uploads.append((path, name, size))
    else:
        received.bodies.append((path, name))
    received.size += size


async def _receive_multipart(
    request: Request,
    settings: Settings,
    storage: ArtifactStorage,
    received: Received,
    project_id: int,
) -> None:
    async with request.form(
        max_files=settings.import_max_files, max_fields=100, max_part_size=_FORM_FIELD_MAX
    ) as form:
        files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        if not files:
            url = form.get("url")
            if isinstance(url, str) and url.strip():
                await _receive_url_value(
                    url, settings, storage, received, keep=False, project_id=project_id
                )
                return
            raise imports.item_error("load_tasks: No data found in DATA or in FILES")
        for upload in files:
            name = upload.filename or "file"
            extension = PurePosixPath(name.replace("\\", "/")).suffix.lower()
            if extension not in ALLOWED_EXTENSIONS:
                raise ValidationFailed(
                    {
                        "file": [
                            f"{uploads.safe_filename(name)}: unsupported file extension "
                            f"{extension or '(none)'}; allowed: "
                            f"{', '.join(sorted(ALLOWED_EXTENSIONS))}."
                        ]
                    }
                )
            path = uploads.new_upload_path(project_id, name)
            budget = settings.import_max_bytes - received.size
            size = await run_in_threadpool(
                uploads.store_stream, storage, path, upload.file, max_bytes=budget
            )
            received.uploads.append((path, uploads.safe_filename(name), size))
            received.size += size


async def _receive_url_form(
    request: Request,
    settings: Settings,
    storage: ArtifactStorage,
    received: Received,
    keep: bool,
    project_id: int,
) -> None:
    async with request.form(max_files=0, max_fields=100, max_part_size=_FORM_FIELD_MAX) as form:
        url = form.get("url")
        if not isinstance(url, str) or not url.strip():
            raise imports.item_error("load_tasks: No data found in DATA or in FILES")
        await _receive_url_value(url, settings, storage, received, keep=keep, project_id=project_id)


async def _receive_url_value(
    value: str,
    settings: Settings,
    storage: ArtifactStorage,
    received: Received,
    *,
    keep: bool,
    project_id: int,
) -> None:
    """Label Studio treats a `url` that parses as JSON as inline tasks, and downloads any
    other URL as if its file had been uploaded."""
    try:
        json.loads(value)
    except json.JSONDecodeError:
        await _download_url(value.strip(), settings, storage, received, project_id=project_id)
        return
    content = value.encode("utf-8")
    if len(content) > settings.import_max_bytes:
        raise PayloadTooLarge(f"The import is larger than {settings.import_max_bytes} bytes.")
    name = "import.json"
    path = uploads.new_upload_path(project_id, name) if keep else uploads.new_body_path(".json")
    await run_in_threadpool(uploads.write_bytes, storage, path, content)
    _add_body(received, path, name, len(content), keep)


async def _download_url(
    url: str, settings: Settings, storage: ArtifactStorage, received: Received, *, project_id: int
) -> None:
    """Fetch `url` through the outbound address policy into an upload, streamed and capped.

    A URL the policy refuses (a private address, after DNS and on every redirect), one that
    does not answer, answers an error or names no importable file is the caller's input,
    so each is a 400 on `url` naming the reason.
    """
    policy = outbound_policy()
    try:
        async with (
            policy.async_client(
                follow_redirects=True,
                max_redirects=settings.import_url_max_redirects,
                timeout=settings.import_url_timeout_seconds,
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise _url_error(f"{url} answered HTTP {response.status_code}.")
            name = _downloaded_file_name(response.url.path, response.headers.get("content-type"))
            path = uploads.new_upload_path(project_id, name)
            budget = settings.import_max_bytes - received.size
            size = await uploads.spool_stream(
                storage, path, response.aiter_bytes(), max_bytes=budget
            )
    except OutboundRefused as refused:
        raise _url_error(refused.reason) from None
    except httpx.InvalidURL as error:
        # httpx refuses what it cannot parse (`0177.0.0.1`) before any connection is tried.
        raise _url_error(f"not a valid URL ({error}).") from None
    except httpx.HTTPError as error:
        raise _url_error(f"could not download {url} ({type(error).__name__}).") from None
    received.uploads.append((path, name, size))
    received.size += size


def _downloaded_file_name(path: str, content_type: str | None) -> str:
    """The URL's file name when its extension is importable, else one from the media type."""
    name = uploads.safe_filename(PurePosixPath(unquote(path)).name or "import")
    extension = PurePosixPath(name).suffix.lower()
    if extension in ALLOWED_EXTENSIONS:
        return name
    media_type = (content_type or "").split(";")[0].strip().lower()
    extension = RAW_TYPES.get(media_type, "") if media_type else ""
    if not extension:
        raise _url_error(
            f"cannot tell which kind of file {name!r} is ({media_type or 'no media type'}); "
            f"its name must end with one of {', '.join(sorted(ALLOWED_EXTENSIONS))}."
        )
    return f"{PurePosixPath(name).stem or 'import'}{extension}"


def _url_error(reason: str) -> ValidationFailed:
    return ValidationFailed({"url": [reason]})


def discard(storage: ArtifactStorage, keys: list[str]) -> None:
    for key in keys:
        uploads.remove(storage, key)
