"""Exports: the synchronous download and snapshots (rows, their files, their conversions).

Functions take the session (and the artifact storage or task source) explicitly, so the
HTTP handlers and the `exports` jobs run the same code.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from labelops_common.auth.principal import Principal
from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo, UserDirectory
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.jobs import JobStatus, cancel_job
from labelops_common.jobs.models import FINISHED
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from export_svc.artifacts import ArtifactStorage, LocalArtifactStorage
from export_svc.exports.metrics import counted, measured
from export_svc.exports.models import ConvertedFormat, Export
from export_svc.exports.schemas import LABEL_STUDIO_STATUS, ExportCreate
from export_svc.formats import (
    ConfigShape,
    ExportContext,
    ExportFormat,
    describe_formats,
    find_format,
)
from export_svc.formats._base import json_array, records_from_json_array
from export_svc.media import MediaAccess, MediaTooLarge
from export_svc.storages import StorageClient, WrittenObject
from export_svc.tasks.stream import (
    AnnotationFilter,
    Presence,
    Serialization,
    TaskSelection,
    TaskSource,
    export_records,
    started,
)

SNAPSHOT_FORMAT = "JSON"


def config_shape(project: ProjectInfo) -> ConfigShape:
    return ConfigShape.from_parsed(project.parsed, project.label_config)


def formats_for(project: ProjectInfo) -> list[dict[str, Any]]:
    return describe_formats(config_shape(project))


def resolve_format(name: str, project: ProjectInfo, *, field: str) -> ExportFormat:
    """The format called `name`, if it exists and fits the project's config; else 400 on `field`."""
    export_format = find_format(name)
    if export_format is None:
        raise ValidationFailed({field: [f'"{name}" is not a supported export format.']})
    if not export_format.fits(config_shape(project)):
        raise ValidationFailed({field: [f'"{name}" does not fit this project\'s labeling config.']})
    problem = export_format.precheck(project.parsed) if export_format.precheck else None
    if problem:
        raise ValidationFailed({field: [f'"{name}" cannot be written for this project: {problem}']})
    return export_format


def context_for(
    project: ProjectInfo, *, media: MediaAccess | None = None, download_resources: bool = False
) -> ExportContext:
    return ExportContext(
        project_id=project.id,
        parsed=project.parsed,
        label_config=project.label_config,
        download_resources=download_resources,
        media=media.fetcher(project.id) if media is not None else None,
    )


#: Bytes of a media export kept in memory before its spool moves to disk.
SPOOL_IN_MEMORY = 8 * 1024 * 1024


def with_media_checked(
    chunks: Iterator[bytes], export_format: ExportFormat, context: ExportContext
) -> Iterator[bytes]:
    """A download that fetches media is written whole before it is sent, so passing the
    media cap is a 400 that says so, not a cut-off archive; other formats stream as is."""
    if not context.fetches_media(export_format.media):
        return chunks
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        for chunk in chunks:
            spool.write(chunk)
    except MediaTooLarge as error:
        spool.close()
        raise ValidationFailed({"download_resources": [str(error)]}, detail=str(error)) from None
    except BaseException:
        spool.close()
        raise
    finally:
        if context.media is not None:
            context.media.close()
    return _spooled(spool)


def _spooled(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


def download_name(project_id: int, extension: str, *, tag: str | None = None) -> str:
    """Label Studio's `project-<id>-at-<YYYY-MM-DD-HH-MM>-<8 hex>.<ext>`."""
    moment = datetime.now(UTC).strftime("%Y-%m-%d-%H-%M")
    return f"project-{project_id}-at-{moment}-{(tag or secrets.token_hex(4))[:8]}.{extension}"


#: Bytes gathered before a chunk is handed to the HTTP server (each chunk costs a thread hop).
CHUNK_BYTES = 256 * 1024


def coalesced(chunks: Iterator[bytes], *, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Many small writes as fewer chunks of about `size` bytes."""
    pending: list[bytes] = []
    gathered = 0
    for chunk in chunks:
        pending.append(chunk)
        gathered += len(chunk)
        if gathered >= size:
            yield b"".join(pending)
            pending.clear()
            gathered = 0
    if pending:
        yield b"".join(pending)


def users_lookup(people: UserDirectory, project: ProjectInfo) -> Callable[..., Any]:
    return lambda ids: people.describe(project.organization_id, ids)


# ------------------------------------------------------------------ synchronous download


def stream_export(
    *,
    source: TaskSource,
    people: UserDirectory,
    project: ProjectInfo,
    export_format: ExportFormat,
    selection: TaskSelection,
    media: MediaAccess | None = None,
    download_resources: bool = False,
) -> Iterator[bytes]:
    """The export as bytes, produced while task-svc streams the tasks.

    The first batch is read before returning, so an unknown project or a task-svc outage
    is an error status rather than a truncated download.
    """
    batches = started(source.batches(selection))
    records = export_records(
        batches,
        selection=selection,
        serialization=Serialization(),
        overlap=project.maximum_annotations,
        users=users_lookup(people, project),
    )
    rows = counted(records, format_name=export_format.name, mode="sync")
    context = context_for(project, media=media, download_resources=download_resources)
    return with_media_checked(
        coalesced(
            measured(
                export_format.write(rows, context),
                format_name=export_format.name,
                mode="sync",
            )
        ),
        export_format,
        context,
    )


# ------------------------------------------------------------------------------ snapshots


def check_target(storages: StorageClient, *, project: ProjectInfo, storage_id: int) -> int:
    """`storage_id` if it is an export storage of the project (asked of storage-sync, which
    owns storages); else 400 on `target_storage_id`. A storage of another organization reads
    as missing, so the answer says nothing about other organizations' storages."""
    found = storages.export_storage(storage_id, organization_id=project.organization_id)
    if found is None:
        raise ValidationFailed(
            {
                "target_storage_id": [
                    f"No export storage {storage_id} in this project's organization."
                ]
            }
        )
    if found.project_id != project.id:
        raise ValidationFailed(
            {
                "target_storage_id": [
                    f"Export storage {storage_id} belongs to another project; "
                    f"choose an export storage of project {project.id}."
                ]
            }
        )
    return found.id


def create_export(
    session: Session,
    *,
    project: ProjectInfo,
    principal: Principal,
    body: ExportCreate,
    target_storage_id: int | None = None,
) -> Export:
    """A snapshot row, queued; the caller commits and the job is sent after the commit.
    `target_storage_id` is an export storage `check_target` accepted."""
    export = Export(
        kind="snapshot",
        payload={"project_id": project.id},
        project_id=project.id,
        title=body.title,
        created_by_id=principal.user_id,
        counters={},
        task_filter_options=_dump(body.task_filter_options),
        annotation_filter_options=_dump(body.annotation_filter_options),
        serialization_options=_dump(body.serialization_options),
        target_storage_id=target_storage_id,
        target_status="queued" if target_storage_id is not None else None,
    )
    session.add(export)
    session.flush()
    return export


def _dump(options: Any) -> dict[str, Any] | None:
    return options.model_dump(mode="json") if options is not None else None


def list_exports(session: Session, *, project_id: int, limit: int) -> list[Export]:
    return list(
        session.scalars(
            select(Export)
            .where(Export.project_id == project_id)
            .order_by(Export.id.desc())
            .limit(limit)
        )
    )


def get_export(session: Session, *, project_id: int, export_id: int) -> Export:
    export = session.get(Export, export_id)
    if export is None or export.project_id != project_id:
        raise NotFound()
    return export


def converted_formats(session: Session, export_ids: list[int]) -> dict[int, list[ConvertedFormat]]:
    found: dict[int, list[ConvertedFormat]] = {export_id: [] for export_id in export_ids}
    if export_ids:
        rows = session.scalars(
            select(ConvertedFormat)
            .where(ConvertedFormat.export_id.in_(export_ids))
            .order_by(ConvertedFormat.id)
        )
        for row in rows:
            found[row.export_id].append(row)
    return found


def delete_export(session: Session, *, storage: ArtifactStorage, export: Export) -> None:
    """Remove the row, its conversions and their files (files after the rows are gone)."""
    conversions = converted_formats(session, [export.id])[export.id]
    keys = [item.artifact_key for item in conversions] + [export.artifact_key]
    session.execute(delete(ConvertedFormat).where(ConvertedFormat.export_id == export.id))
    session.delete(export)
    session.commit()
    for key in keys:
        if key:
            storage.delete(key)


def cancel_export(session: Session, *, export: Export) -> Export:
    """Mark a queued or running snapshot cancelled; its job notices at its next progress
    check, aborts its upload and stops. A finished one is refused (400 on `status`)."""
    if not cancel_job(session, model=Export, job_id=export.id):
        session.refresh(export)
        label = LABEL_STUDIO_STATUS.get(export.status, export.status)
        raise ValidationFailed({"status": [f"The export is already {label}: nothing to cancel."]})
    session.refresh(export)
    return export


def remove_expired_exports(
    session: Session, *, storage: ArtifactStorage, older_than: timedelta, limit: int = 100
) -> int:
    """Delete up to `limit` finished snapshots created before now - `older_than`, with their
    conversions, then their files; returns how many snapshots went.

    Safe in several processes at once: each row is deleted by one `DELETE ... RETURNING`,
    so only the process that removed a row removes its files.
    """
    cutoff = utcnow() - older_than
    finished = [status.value for status in FINISHED]
    expired = list(
        session.scalars(
            select(Export.id)
            .where(Export.status.in_(finished), Export.created_at < cutoff)
            .order_by(Export.id)
            .limit(limit)
        )
    )
    if not expired:
        return 0
    conversion_keys = session.scalars(
        delete(ConvertedFormat)
        .where(ConvertedFormat.export_id.in_(expired))
        .returning(ConvertedFormat.artifact_key)
        .execution_options(synchronize_session=False)
    ).all()
    removed = session.execute(
        delete(Export)
        .where(Export.id.in_(expired), Export.status.in_(finished))
        .returning(Export.id, Export.artifact_key)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    for key in [*conversion_keys, *(row.artifact_key for row in removed)]:
        if key:
            storage.delete(key)
    return len(removed)


def remove_abandoned_partials(storage: ArtifactStorage, *, older_than: timedelta) -> int:
    """Delete the hidden partial files (`.<name>.<uuid>.partial`) under `exports/` on local
    disk that nobody wrote to for `older_than`: a worker killed mid-write leaves its own
    behind, and the job that ran again wrote a new one. Returns how many went."""
    if not isinstance(storage, LocalArtifactStorage):
        return 0
    root = storage.root / "exports"
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for path in root.rglob(".*.partial"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


def selection_of(export: Export) -> TaskSelection:
    options = export.task_filter_options or {}
    return TaskSelection(
        project_id=export.project_id,
        only_annotated=bool(options.get("only_with_annotations")),
        view_id=int(options.get("view") or 0),
        skipped=_presence(options.get("skipped")),
        annotated=_presence(options.get("annotated")),
        finished=_presence(options.get("finished")),
    )


def _presence(value: Any) -> Presence | None:
    return Presence(value) if value else None


def serialization_of(export: Export) -> Serialization:
    options = export.serialization_options or {}
    annotation_options = export.annotation_filter_options
    return Serialization(
        predictions_as_ids=bool((options.get("predictions") or {}).get("only_id", True)),
        completed_by_as_id=bool(
            (options.get("annotations__completed_by") or {}).get("only_id", True)
        ),
        annotation_filter=AnnotationFilter(
            usual=bool(annotation_options.get("usual")),
            ground_truth=bool(annotation_options.get("ground_truth")),
            skipped=bool(annotation_options.get("skipped")),
        )
        if annotation_options is not None
        else None,
    )


def snapshot_downloads_resources(export: Export) -> bool:
    """The snapshot's `serialization_options.download_resources` (Label Studio: true if unset)."""
    value = (export.serialization_options or {}).get("download_resources")
    return True if value is None else bool(value)


def snapshot_key(export: Export) -> str:
    return f"exports/{export.project_id}/{export.id}.json"


def conversion_key(converted: ConvertedFormat, export_format: ExportFormat) -> str:
    return (
        f"exports/{converted.project_id}/{converted.export_id}-"
        f"{export_format.name.lower()}.{export_format.extension}"
    )


@dataclass(frozen=True)
class WrittenArtifact:
    key: str
    md5: str
    size: int
    rows: int


#: Records between two calls of a snapshot's progress callback.
PROGRESS_EVERY = 256


def write_snapshot(
    *,
    storage: ArtifactStorage,
    source: TaskSource,
    people: UserDirectory,
    project: ProjectInfo,
    export: Export,
    on_progress: Callable[[int], None] = lambda _rows: None,
) -> WrittenArtifact:
    """Stream the project's tasks into the snapshot's JSON file; all or nothing.

    `on_progress(rows written)` is called every `PROGRESS_EVERY` records; whatever it raises
    (a cancellation) aborts the upload, so nothing is published under the key.
    """
    selection = selection_of(export)
    rows = 0

    def tally(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        nonlocal rows
        for record in records:
            rows += 1
            if rows % PROGRESS_EVERY == 0:
                on_progress(rows)
            yield record

    records = export_records(
        source.batches(selection),
        selection=selection,
        serialization=serialization_of(export),
        overlap=project.maximum_annotations,
        users=users_lookup(people, project),
    )
    counted_records = counted(tally(records), format_name=SNAPSHOT_FORMAT, mode="snapshot")
    key = snapshot_key(export)
    writer = storage.writer(key)
    try:
        writer.write_all(
            coalesced(
                measured(json_array(counted_records), format_name=SNAPSHOT_FORMAT, mode="snapshot")
            )
        )
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return WrittenArtifact(key=key, md5=writer.md5, size=writer.size, rows=rows)


def target_object_name(export: Export) -> str:
    """The snapshot's object name under an export storage's prefix: one per snapshot, so
    a job that runs again writes the same object rather than a second one."""
    return f"project-{export.project_id}-export-{export.id}.json"


def write_to_target(
    *, storage: ArtifactStorage, storages: StorageClient, export: Export
) -> WrittenObject:
    """Stream the completed snapshot's file to its export storage, chunk by chunk as the
    artifact store reads it. StorageWriteFailed (the storage refused) or PeerError
    (storage-sync unreachable) if it did not get there."""
    if export.target_storage_id is None or not export.artifact_key:
        raise ValueError("the snapshot has no file or no target storage")
    return storages.write(
        storage_id=export.target_storage_id,
        project_id=export.project_id,
        name=target_object_name(export),
        chunks=storage.read(export.artifact_key),
        size=export.size,
    )


# ---------------------------------------------------------------- downloads, conversions


def require_completed(export: Export) -> str:
    if export.status != JobStatus.SUCCEEDED.value or not export.artifact_key:
        raise NotFound("Export is not completed")
    return export.artifact_key


@dataclass(frozen=True)
class StoredFile:
    """A download that is a file in the artifact storage as it is (served with ranges, or
    by a presigned URL), rather than bytes converted on the fly."""

    key: str


def download_snapshot(
    session: Session,
    *,
    storage: ArtifactStorage,
    project: ProjectInfo,
    export: Export,
    export_format: ExportFormat,
    media: MediaAccess | None = None,
    download_resources: bool = False,
) -> StoredFile | Iterator[bytes]:
    """The snapshot in `export_format`: the file itself, a finished conversion, or converted now."""
    key = require_completed(export)
    if export_format.name == SNAPSHOT_FORMAT:
        return StoredFile(key)
    converted = session.scalar(
        select(ConvertedFormat).where(
            ConvertedFormat.export_id == export.id,
            ConvertedFormat.export_type == export_format.name,
            ConvertedFormat.status == JobStatus.SUCCEEDED.value,
        )
    )
    if converted is not None and converted.artifact_key and storage.exists(converted.artifact_key):
        return StoredFile(converted.artifact_key)
    return convert_snapshot(
        storage=storage,
        project=project,
        key=key,
        export_format=export_format,
        mode="download",
        media=media,
        download_resources=download_resources,
    )


def convert_snapshot(
    *,
    storage: ArtifactStorage,
    project: ProjectInfo,
    key: str,
    export_format: ExportFormat,
    mode: str,
    media: MediaAccess | None = None,
    download_resources: bool = False,
) -> Iterator[bytes]:
    records = counted(
        records_from_json_array(storage.read(key)), format_name=export_format.name, mode=mode
    )
    context = context_for(project, media=media, download_resources=download_resources)
    return with_media_checked(
        coalesced(
            measured(
                export_format.write(records, context),
                format_name=export_format.name,
                mode=mode,
            )
        ),
        export_format,
        context,
    )


def request_conversion(
    session: Session,
    *,
    export: Export,
    export_format: ExportFormat,
    download_resources: bool | None = None,
) -> ConvertedFormat:
    """A queued conversion; converting to the same format twice is refused (Label Studio's 400)."""
    require_completed(export)
    if export_format.name == SNAPSHOT_FORMAT:
        raise ValidationFailed({"export_type": ["The snapshot is already in JSON."]})
    existing = session.scalar(
        select(ConvertedFormat).where(
            ConvertedFormat.export_id == export.id,
            ConvertedFormat.export_type == export_format.name,
        )
    )
    if existing is not None:
        raise ValidationFailed(
            {"export_type": [f"Export was already converted to {export_format.name}."]}
        )
    converted = ConvertedFormat(
        kind="convert",
        payload={
            "export_id": export.id,
            "download_resources": snapshot_downloads_resources(export)
            if download_resources is None
            else download_resources,
        },
        export_id=export.id,
        project_id=export.project_id,
        export_type=export_format.name,
    )
    session.add(converted)
    session.flush()
    return converted


def write_conversion(
    *,
    storage: ArtifactStorage,
    project: ProjectInfo,
    export: Export,
    converted: ConvertedFormat,
    export_format: ExportFormat,
    media: MediaAccess | None = None,
) -> WrittenArtifact:
    source_key = require_completed(export)
    key = conversion_key(converted, export_format)
    writer = storage.writer(key)
    try:
        writer.write_all(
            convert_snapshot(
                storage=storage,
                project=project,
                key=source_key,
                export_format=export_format,
                mode="convert",
                media=media,
                download_resources=bool((converted.payload or {}).get("download_resources", True)),
            )
        )
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return WrittenArtifact(key=key, md5=writer.md5, size=writer.size, rows=0)
