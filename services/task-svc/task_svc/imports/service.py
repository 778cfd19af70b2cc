"""Imports: turn stored bodies and uploaded files into tasks, inline or as a queued job.

Every import is an `ImportJob` row. Small imports run inside the request (the row is
written completed, in the same transaction as the tasks); large ones are committed as a
queued row and run by `imports.jobs`. Either way the tasks, their counters and the
row's result are written in ONE transaction, so an import is all-or-nothing and a job
re-run after a crash sees its own committed result instead of importing twice.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

import ijson
from labelops_common.artifacts import ArtifactStorage
from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.jobs import JobStatus
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from task_svc.annotations.models import Annotation
from task_svc.counts import service as counts
from task_svc.drafts.models import Draft
from task_svc.events.publisher import TASKS_CREATED, publish_after_commit
from task_svc.imports import uploads
from task_svc.imports.formats import (
    ALLOWED_EXTENSIONS,
    PARSED_EXTENSIONS,
    TABULAR_EXTENSIONS,
    UNDEFINED_KEY,
    ImportFormatError,
    iter_file_tasks,
)
from task_svc.imports.models import FileUpload, ImportJob
from task_svc.imports.validation import ImportItemError, prepare_prediction
from task_svc.imports.writer import WrittenTasks, insert_predictions, write_tasks
from task_svc.predictions.models import Prediction
from task_svc.tasks.models import Task

logger = logging.getLogger(__name__)

JOB_KIND = "import"
#: At most this many distinct data keys are collected for `data_columns`.
_MAX_COLUMNS = 1000
#: Label Studio lists at most this many item errors; we stop at the first.
NO_TASKS = "No tasks added"


@dataclass(frozen=True)
class Source:
    """One body to parse: a spooled raw body or an uploaded file."""

    #: Its key in the artifact storage (`import-bodies/...` or `upload/<project>/...`).
    path: str
    #: The name whose extension picks the parser (`body.json`, `tasks.csv`, `cat.jpg`).
    filename: str
    file_upload_id: int | None = None

    @property
    def extension(self) -> str:
        return PurePosixPath(self.filename).suffix.lower()

    def as_payload(self) -> dict[str, Any]:
        return {"path": self.path, "filename": self.filename, "file_upload_id": self.file_upload_id}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Source:
        return cls(
            path=str(payload["path"]),
            filename=str(payload["filename"]),
            file_upload_id=payload.get("file_upload_id"),
        )


@dataclass
class ImportOptions:
    commit_to_project: bool = True
    return_task_ids: bool = False
    preannotated_from_fields: list[str] = field(default_factory=list)
    #: Reimport: tasks created earlier from these uploads are deleted first.
    replace_file_upload_ids: list[int] = field(default_factory=list)
    #: Reimport with False: each csv/tsv/txt upload becomes one task pointing at the file.
    files_as_tasks_list: bool = True

    def as_payload(self) -> dict[str, Any]:
        return {
            "commit_to_project": self.commit_to_project,
            "return_task_ids": self.return_task_ids,
            "preannotated_from_fields": list(self.preannotated_from_fields),
            "replace_file_upload_ids": list(self.replace_file_upload_ids),
            "files_as_tasks_list": self.files_as_tasks_list,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ImportOptions:
        return cls(
            commit_to_project=bool(payload.get("commit_to_project", True)),
            return_task_ids=bool(payload.get("return_task_ids", False)),
            preannotated_from_fields=list(payload.get("preannotated_from_fields") or []),
            replace_file_upload_ids=list(payload.get("replace_file_upload_ids") or []),
            files_as_tasks_list=bool(payload.get("files_as_tasks_list", True)),
        )


@dataclass(frozen=True)
class Limits:
    max_tasks: int = 1_000_000
    batch_size: int = 5000


@dataclass
class ImportRequest:
    """Everything an import needs, storable as a job payload."""

    project_id: int
    user_id: int | None
    user_email: str | None
    sources: list[Source]
    options: ImportOptions
    #: Keys of spooled raw bodies to delete once the import is done (uploads are kept).
    temporary_paths: list[str] = field(default_factory=list)
    file_upload_ids: list[int] = field(default_factory=list)

    def as_payload(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "user_id": self.user_id,
            "user_email": self.user_email,
            "sources": [source.as_payload() for source in self.sources],
            "options": self.options.as_payload(),
            "temporary_paths": list(self.temporary_paths),
            "file_upload_ids": list(self.file_upload_ids),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ImportRequest:
        return cls(
            project_id=int(payload["project_id"]),
            user_id=payload.get("user_id"),
            user_email=payload.get("user_email"),
            sources=[Source.from_payload(source) for source in payload.get("sources") or []],
            options=ImportOptions.from_payload(payload.get("options") or {}),
            temporary_paths=list(payload.get("temporary_paths") or []),
            file_upload_ids=list(payload.get("file_upload_ids") or []),
        )


def item_error(message: str) -> ValidationFailed:
    """Label Studio's body for a bad import: `validation_errors.non_field_errors`."""
    return ValidationFailed({"non_field_errors": [message]})


# ------------------------------------------------------------------------------- uploads


def add_file_upload(
    session: Session, *, project_id: int, user_id: int | None, path: str, size: int
) -> FileUpload:
    upload = FileUpload(project_id=project_id, user_id=user_id, file=path, size=size)
    session.add(upload)
    session.flush()
    return upload


def project_uploads(
    session: Session, *, project_id: int, ids: Sequence[int] | None
) -> list[FileUpload]:
    """The project's uploads (all of them when `ids` is None), ordered by id."""
    query = select(FileUpload).where(FileUpload.project_id == project_id)
    if ids is not None:
        query = query.where(FileUpload.id.in_(list(ids)))
    return list(session.scalars(query.order_by(FileUpload.id)))


def upload_fields(upload: FileUpload) -> dict[str, Any]:
    return {"id": upload.id, "file": upload.file, "size": upload.size}


def delete_uploads(session: Session, *, uploads_: Sequence[FileUpload]) -> list[str]:
    """Forget uploads (their tasks stay, unlinked, as in Label Studio); returns the keys
    to delete from the artifact storage once the caller has committed."""
    ids = [upload.id for upload in uploads_]
    if not ids:
        return []
    session.execute(
        update(Task)
        .where(Task.file_upload_id.in_(ids))
        .values(file_upload_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(FileUpload).where(FileUpload.id.in_(ids)))
    # The tasks' upload column changed: a data-manager total filtered on it is out of date.
    for project_id in sorted({upload.project_id for upload in uploads_}):
        counts.touch(session, project_id=project_id)
    return [upload.file for upload in uploads_]


def find_upload_by_file(session: Session, *, project_id: int, relative: str) -> FileUpload | None:
    return session.scalars(
        select(FileUpload).where(FileUpload.project_id == project_id, FileUpload.file == relative)
    ).first()


# ------------------------------------------------------------------------------ parsing


@dataclass
class _Stats:
    found_formats: dict[str, int] = field(default_factory=dict)
    could_be_tasks_list: bool = False
    data_columns: list[str] | None = None
    parsed: int = 0


def _preannotate(
    project: ProjectInfo, item: dict[str, Any], fields: Sequence[str], index: int
) -> dict[str, Any]:
    """Label Studio's `preannotated_from_fields`: listed data fields become predictions."""
    data = dict(item.get("data") or {})
    predictions = list(item.get("predictions") or [])
    controls = project.config.controls if project.config is not None else {}
    for name in fields:
        if name not in data:
            raise ImportItemError(
                index, f"data.{name}", f'"{name}" (preannotated_from_fields) is not in the task.'
            )
        value = data.pop(name)
        control = controls.get(name)
        to_name = control.to_names[0] if control is not None and control.to_names else "text"
        kind = control.type if control is not None else "choices"
        predictions.append(
            {
                "result": [
                    {
                        "from_name": name,
                        "to_name": to_name,
                        "type": kind,
                        "value": {kind: value if isinstance(value, list) else [value]},
                    }
                ]
            }
        )
    return {**item, "data": data, "predictions": predictions}


def _source_items(
    storage: ArtifactStorage, source: Source, options: ImportOptions
) -> Iterator[dict[str, Any]]:
    """Tasks of one source; the stored file is open only while the generator runs.

    Media files become one task pointing at their URL: only their presence is checked.
    """
    if source.extension not in ALLOWED_EXTENSIONS:
        raise item_error(
            f"{source.filename}: unsupported file extension {source.extension or '(none)'}; "
            f"allowed: {', '.join(sorted(ALLOWED_EXTENSIONS))}."
        )
    url = uploads.upload_url(source.path)
    if not options.files_as_tasks_list and source.extension in TABULAR_EXTENSIONS:
        yield {"data": {UNDEFINED_KEY: url}}
        return
    missing = item_error(f"{source.filename}: the stored file is missing.")
    if source.extension not in PARSED_EXTENSIONS:
        try:
            present = storage.exists(source.path)
        except ValueError:
            present = False
        if not present:
            raise missing
        yield {"data": {UNDEFINED_KEY: url}}
        return
    try:
        stream = uploads.open_stored(storage, source.path)
    except (ValueError, FileNotFoundError):
        raise missing from None
    with stream:
        yield from iter_file_tasks(source.filename, stream, upload_url=url)


def _tracked(
    items: Iterable[dict[str, Any]],
    *,
    stats: _Stats,
    keys: set[str] | None,
    project: ProjectInfo,
    options: ImportOptions,
    limits: Limits,
) -> Iterator[dict[str, Any]]:
    """Count items, collect data keys, apply preannotation, enforce the task limit."""
    for index, item in enumerate(items):
        if stats.parsed >= limits.max_tasks:
            raise item_error(f"Too many tasks: at most {limits.max_tasks} in one import.")
        stats.parsed += 1
        if keys is not None and len(keys) < _MAX_COLUMNS and isinstance(item.get("data"), dict):
            keys.update(str(key) for key in itertools.islice(item["data"], _MAX_COLUMNS))
        if options.preannotated_from_fields:
            item = _preannotate(project, item, options.preannotated_from_fields, index)
        yield item


def _describe_format_error(error: ImportFormatError, offset: int, filename: str | None) -> str:
    if error.index is None:
        return f"{filename}: {error.reason}" if filename else error.reason
    return f"Error at item {error.index + offset}: {error.reason}"


# ------------------------------------------------------------------------------ running


def execute_import(
    session: Session,
    *,
    project: ProjectInfo,
    request: ImportRequest,
    limits: Limits,
    storage: ArtifactStorage,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Parse every source and (when committing) write its tasks; the caller commits.

    Sources are read from `storage`. Returns Label Studio's synchronous response body.
    Raises ValidationFailed naming the item on any bad input, after which the caller must
    roll back.
    """
    started = time.monotonic()
    options = request.options
    stats = _Stats()
    if request.options.replace_file_upload_ids:
        delete_upload_tasks(
            session, project_id=project.id, upload_ids=request.options.replace_file_upload_ids
        )
    column_sets: list[set[str]] = []
    written = WrittenTasks(0, 0, 0, [] if options.return_task_ids else None)
    for source in request.sources:
        keys = _import_source(
            session,
            project=project,
            request=request,
            source=source,
            limits=limits,
            storage=storage,
            stats=stats,
            written=written,
            on_progress=on_progress,
        )
        if keys is not None:
            column_sets.append(keys)
    if stats.parsed == 0:
        raise item_error(NO_TASKS)
    if len(column_sets) > 1 and not set.intersection(*column_sets):
        raise item_error("The uploaded files share no data column; import them separately.")
    data_columns = sorted(set.intersection(*column_sets)) if column_sets else []
    committed = options.commit_to_project
    response: dict[str, Any] = {
        "task_count": written.task_count if committed else stats.parsed,
        "annotation_count": written.annotation_count if committed else None,
        "prediction_count": written.prediction_count if committed else None,
        "duration": round(time.monotonic() - started, 6),
        "file_upload_ids": list(request.file_upload_ids),
        "could_be_tasks_list": stats.could_be_tasks_list,
        "found_formats": dict(stats.found_formats) if stats.found_formats else [],
        "data_columns": data_columns,
    }
    if options.return_task_ids:
        response["task_ids"] = written.task_ids if committed else []
    if committed and written.task_count:
        _publish_tasks_created(session, project_id=project.id, written=written)
    return response


def _import_source(
    session: Session,
    *,
    project: ProjectInfo,
    request: ImportRequest,
    source: Source,
    limits: Limits,
    storage: ArtifactStorage,
    stats: _Stats,
    written: WrittenTasks,
    on_progress: Callable[[int], None] | None,
) -> set[str] | None:
    """Parse one source and (when committing) write its tasks, adding to `written`.

    Returns the data columns of an uploaded file (None for a request body)."""
    options = request.options
    from_upload = source.file_upload_id is not None
    if from_upload:
        stats.found_formats[source.extension] = stats.found_formats.get(source.extension, 0) + 1
        stats.could_be_tasks_list |= source.extension in TABULAR_EXTENSIONS
    keys: set[str] | None = set() if from_upload else None
    offset = stats.parsed
    items = _tracked(
        _source_items(storage, source, options),
        stats=stats,
        keys=keys,
        project=project,
        options=options,
        limits=limits,
    )
    try:
        if options.commit_to_project:
            done = written.task_count

            def progress(count: int) -> None:
                if on_progress is not None:
                    on_progress(done + count)

            part = write_tasks(
                session,
                project=project,
                items=items,
                user_id=request.user_id,
                user_email=request.user_email,
                file_upload_id=source.file_upload_id,
                return_task_ids=options.return_task_ids,
                batch_size=limits.batch_size,
                on_progress=progress,
            )
            _add(written, part)
        else:
            for _ in items:
                pass
    except ImportItemError as exc:
        raise item_error(exc.shifted(offset).message) from None
    except ImportFormatError as exc:
        filename = PurePosixPath(source.filename).name if from_upload else None
        raise item_error(_describe_format_error(exc, offset, filename)) from None
    return keys


def _add(total: WrittenTasks, part: WrittenTasks) -> None:
    total.task_count += part.task_count
    total.annotation_count += part.annotation_count
    total.prediction_count += part.prediction_count
    if total.task_ids is not None and part.task_ids is not None:
        total.task_ids.extend(part.task_ids)
    if part.first_task_id is not None:
        total.first_task_id = total.first_task_id or part.first_task_id
        total.last_task_id = part.last_task_id


def _publish_tasks_created(session: Session, *, project_id: int, written: WrittenTasks) -> None:
    """TASKS_CREATED once the import's transaction commits (nothing on rollback)."""
    payload: dict[str, Any] = {"task_count": written.task_count}
    if written.first_task_id is not None:
        payload["first_task_id"] = written.first_task_id
        payload["last_task_id"] = written.last_task_id
    publish_after_commit(session, TASKS_CREATED, project_id=project_id, payload=payload)


def delete_upload_tasks(session: Session, *, project_id: int, upload_ids: Sequence[int]) -> int:
    """Delete the tasks created from these uploads (reimport), keeping counters right."""
    task_filter = Task.file_upload_id.in_(list(upload_ids))
    deleted = counts.forget_tasks(session, project_id=project_id, task_filter=task_filter)
    scope = select(Task.id).where(Task.project_id == project_id, task_filter)
    for child in (Draft, Annotation, Prediction):
        session.execute(delete(child).where(child.task_id.in_(scope)))
    session.execute(delete(Task).where(Task.project_id == project_id, task_filter))
    return deleted


# --------------------------------------------------------------------------------- jobs


def new_job(
    session: Session,
    *,
    request: ImportRequest,
    request_key: str | None = None,
    queued: bool = False,
) -> ImportJob:
    """The import's row; `queued` marks one answered `{"import": id}` and run by a worker."""
    job = ImportJob(
        kind=JOB_KIND,
        project_id=request.project_id,
        user_id=request.user_id,
        payload={**request.as_payload(), "queued": queued},
        status=JobStatus.QUEUED.value,
        result={},
        request_key=request_key,
    )
    session.add(job)
    session.flush()
    return job


def is_queued(job: ImportJob) -> bool:
    return bool((job.payload or {}).get("queued"))


def finish_job_inline(session: Session, *, job: ImportJob, response: dict[str, Any]) -> None:
    """Record an import run inside the request as a completed job, in its transaction."""
    now = utcnow()
    job.status = JobStatus.SUCCEEDED.value
    job.result = {**response, "committed": True}
    job.progress = int(response.get("task_count") or 0)
    job.total = job.progress
    job.attempts = 1
    job.started_at = job.started_at or now
    job.finished_at = now
    job.updated_at = now


def record_failed_job(
    session: Session, *, request: ImportRequest, error: ValidationFailed | str
) -> ImportJob:
    """A failed import still leaves its row (nothing else), so it can be looked up."""
    job = new_job(session, request=request)
    now = utcnow()
    job.status = JobStatus.FAILED.value
    job.error = error if isinstance(error, str) else error_text(error)
    job.attempts = 1
    job.started_at = now
    job.finished_at = now
    return job


def error_text(error: ValidationFailed) -> str:
    messages = [
        message for values in (error.validation_errors or {}).values() for message in values
    ]
    return "; ".join(messages) or error.detail


def job_for(session: Session, *, project_id: int, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None or job.project_id != project_id:
        raise NotFound()
    return job


def job_by_key(session: Session, *, request_key: str) -> ImportJob | None:
    return session.scalars(select(ImportJob).where(ImportJob.request_key == request_key)).first()


_STATUS = {
    JobStatus.QUEUED.value: "created",
    JobStatus.RUNNING.value: "in_progress",
    JobStatus.SUCCEEDED.value: "completed",
    JobStatus.FAILED.value: "failed",
    JobStatus.CANCELLED.value: "failed",
}
#: Prefix `run_job` puts before a failed body's message (`ImportFailed: ...`).
FAILURE_PREFIX = "ImportFailed: "


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def import_fields(job: ImportJob) -> dict[str, Any]:
    """Label Studio Enterprise's import object (`GET /api/projects/{id}/imports/{pk}`)."""
    result = job.result or {}
    options = ImportOptions.from_payload((job.payload or {}).get("options") or {})
    error = job.error
    if error and error.startswith(FAILURE_PREFIX):
        error = error[len(FAILURE_PREFIX) :]
    return {
        "id": job.id,
        "project": job.project_id,
        "status": _STATUS.get(job.status, job.status),
        "error": error,
        "task_count": result.get("task_count", 0),
        "annotation_count": result.get("annotation_count", 0),
        "prediction_count": result.get("prediction_count", 0),
        "duration": result.get("duration"),
        "file_upload_ids": result.get(
            "file_upload_ids", (job.payload or {}).get("file_upload_ids", [])
        ),
        "could_be_tasks_list": result.get("could_be_tasks_list", False),
        "found_formats": result.get("found_formats", []),
        "data_columns": result.get("data_columns", []),
        "task_ids": result.get("task_ids", []) if options.return_task_ids else None,
        "url": None,
        "commit_to_project": options.commit_to_project,
        "return_task_ids": options.return_task_ids,
        "preannotated_from_fields": options.preannotated_from_fields or None,
        "progress": job.progress,
        "total": job.total,
        "created_at": _iso(job.created_at),
        "updated_at": _iso(job.updated_at),
        "finished_at": _iso(job.finished_at),
    }


def reimport_fields(job: ImportJob) -> dict[str, Any]:
    """Label Studio's reimport object (`GET /api/projects/{id}/reimports/{pk}/`); only an
    import job started by `/reimport` is one (it replaces uploads' tasks)."""
    options = ImportOptions.from_payload((job.payload or {}).get("options") or {})
    if not options.replace_file_upload_ids:
        raise NotFound()
    fields = import_fields(job)
    return {
        "id": fields["id"],
        "project": fields["project"],
        "status": fields["status"],
        "error": fields["error"],
        "task_count": fields["task_count"],
        "annotation_count": fields["annotation_count"],
        "prediction_count": fields["prediction_count"],
        "duration": fields["duration"],
        "file_upload_ids": fields["file_upload_ids"] or options.replace_file_upload_ids,
        "files_as_tasks_list": options.files_as_tasks_list,
        "found_formats": fields["found_formats"],
        "data_columns": fields["data_columns"],
    }


def replace_upload_file(session: Session, *, upload: FileUpload, path: str, size: int) -> str:
    """Point an upload at new content (`PATCH /api/import/file-upload/{id}`); returns the
    old file's key, to remove once the change is committed. Tasks already imported from it
    stay as they are, as in Label Studio; a reimport reads the new content."""
    old = upload.file
    upload.file = path
    upload.size = size
    session.flush()
    return old


def sync_response(job: ImportJob) -> dict[str, Any]:
    """The synchronous answer again (a retried request with the same Idempotency-Key)."""
    result = {key: value for key, value in (job.result or {}).items() if key != "committed"}
    return result


# -------------------------------------------------------------------------- predictions


def iter_json_values(stream: BinaryIO) -> Iterator[Any]:
    """The items of a JSON list (streamed), or one JSON object; ValidationFailed if invalid."""
    head = stream.read(1)
    while head and head in b" \t\r\n\xef\xbb\xbf":
        head = stream.read(1)
    if not head:
        raise item_error("The body is empty.")
    if head != b"[":
        try:
            value = json.loads(head + stream.read())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise item_error(f"Invalid JSON: {exc}") from None
        yield value
        return
    reader = _Prefixed(head, stream)
    try:
        yield from ijson.items(reader, "item", use_float=True)
    except ijson.JSONError as exc:
        raise item_error(f"Invalid JSON: {str(exc).splitlines()[0]}") from None


class _Prefixed:
    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""  # ijson probes with read(0): that must not consume the prefix
        prefix, self._prefix = self._prefix, b""
        return prefix + self._stream.read(size if size < 0 else max(size - len(prefix), 0))


def import_predictions(
    session: Session,
    *,
    project: ProjectInfo,
    items: Iterable[Any],
    batch_size: int = 5000,
) -> int:
    """`POST /api/projects/{id}/import/predictions`: `[{task, result, score?, model_version?}]`.

    Every task must belong to the project; a bad item fails the whole call. Counters of
    the touched tasks and of the project are recomputed per batch.
    """
    created = 0
    index = 0
    iterator = iter(items)
    while True:
        raw = list(itertools.islice(iterator, batch_size))
        if not raw:
            return created
        now = utcnow()
        rows: list[dict[str, Any]] = []
        task_ids: list[int] = []
        for item in raw:
            if not isinstance(item, dict):
                raise item_error(f"Error at item {index}: Each prediction must be a JSON object.")
            task_id = item.get("task")
            if isinstance(task_id, bool) or not isinstance(task_id, int):
                raise item_error(f"Error at item {index}: task: A task id is required.")
            try:
                row = prepare_prediction(project, item, index, now)
            except ImportItemError as exc:
                raise item_error(exc.message) from None
            rows.append({**row, "task_id": task_id, "project_id": project.id})
            task_ids.append(task_id)
            index += 1
        unique = sorted(set(task_ids))
        found = set(
            session.scalars(
                select(Task.id).where(Task.project_id == project.id, Task.id.in_(unique))
            )
        )
        if len(found) != len(unique):
            missing = next(task_id for task_id in task_ids if task_id not in found)
            position = index - len(task_ids) + task_ids.index(missing)
            raise item_error(
                f"Error at item {position}: task: Task {missing} is not in project {project.id}."
            )
        insert_predictions(session, rows)
        counts.recount_predictions(session, project_id=project.id, task_ids=unique)
        created += len(rows)
