"""`/api/audit-logs/`: the organization's audit log, merged from every service.

Owners and administrators only (`can_read_audit_log`). Newest first, in pages that
continue from a cursor (`next`), since the log is a merge of five services' tables;
`/api/audit-logs/export?format=csv|jsonl` streams every matching entry.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import StreamingResponse
from labelops_common.audit import AuditFilter
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize, can_read_audit_log
from labelops_common.http.errors import ValidationFailed
from labelops_common.http.params import parse_optional_int
from labelops_common.http.routing import ApiRouter

from project_svc.audit import service as audit
from project_svc.audit.schemas import AuditEntryAnswer, AuditLogPage, entry_answer, parse_moment
from project_svc.dependencies import AuditPeers, DbSession

router = ApiRouter(tags=["audit"])

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 500
#: Entries fetched from each service per round while exporting.
EXPORT_BATCH = 500
EXPORT_FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
CSV_COLUMNS = list(AuditEntryAnswer.model_fields)


def _filter(
    principal: CurrentUser,
    *,
    object_type: str | None,
    object_id: str | None,
    actor: str | None,
    project: str | None,
    action: str | None,
    created_from: str | None,
    created_to: str | None,
) -> AuditFilter:
    authorize(can_read_audit_log(principal, organization_id=principal.organization_id))
    start = parse_moment(created_from, field="from")
    end = parse_moment(created_to, field="to")
    if start is not None and end is not None and start > end:
        raise ValidationFailed({"from": ["Must not be after `to`."]})
    return AuditFilter(
        organization_id=principal.organization_id,
        actor_id=parse_optional_int(actor, field="actor"),
        project_id=parse_optional_int(project, field="project"),
        object_type=object_type or None,
        object_id=object_id or None,
        action=action or None,
        created_from=start,
        created_to=end,
    )


def _cursor(text: str | None) -> audit.Cursor | None:
    if not text:
        return None
    try:
        return audit.Cursor.decode(text)
    except ValueError:
        raise ValidationFailed({"cursor": ["Not a cursor this endpoint served."]}) from None


From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]


@router.get("/api/audit-logs", response_model=AuditLogPage)
def list_audit_logs(
    request: Request,
    session: DbSession,
    principal: CurrentUser,
    peers: AuditPeers,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    project: str | None = None,
    action: str | None = None,
    created_from: From = None,
    created_to: To = None,
    cursor: str | None = None,
    page_size: str | None = None,
) -> AuditLogPage:
    """Filters: `object_type` and `object_id`, `actor` (user id), `project`, `action`,
    `from`/`to` (ISO 8601, inclusive)."""
    where = _filter(
        principal,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        project=project,
        action=action,
        created_from=created_from,
        created_to=created_to,
    )
    asked = parse_optional_int(page_size, field="page_size")
    size = PAGE_SIZE_DEFAULT if asked is None else asked
    if not 1 <= size <= PAGE_SIZE_MAX:
        raise ValidationFailed({"page_size": [f"Must be between 1 and {PAGE_SIZE_MAX}."]})
    rows = audit.merged_entries(
        session, where=where, peers=peers, cursor=_cursor(cursor), limit=size + 1
    )
    next_url = None
    if len(rows) > size:
        rows = rows[:size]
        after = audit.cursor_after(rows[-1]).encode()
        next_url = str(request.url.include_query_params(cursor=after))
    return AuditLogPage(next=next_url, results=[entry_answer(row) for row in rows])


@router.get(
    "/api/audit-logs/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every matching entry, newest first, as CSV or JSON lines.",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in EXPORT_FORMATS.values()
            },
        }
    },
)
def export_audit_logs(
    session: DbSession,
    principal: CurrentUser,
    peers: AuditPeers,
    format: str = "csv",
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    project: str | None = None,
    action: str | None = None,
    created_from: From = None,
    created_to: To = None,
) -> StreamingResponse:
    """The same filters as the list; streamed in batches, never held whole."""
    where = _filter(
        principal,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        project=project,
        action=action,
        created_from=created_from,
        created_to=created_to,
    )
    if format not in EXPORT_FORMATS:
        raise ValidationFailed({"format": [f"Must be one of {', '.join(EXPORT_FORMATS)}."]})

    def entries() -> Iterator[AuditEntryAnswer]:
        cursor = None
        while True:
            rows = audit.merged_entries(
                session, where=where, peers=peers, cursor=cursor, limit=EXPORT_BATCH
            )
            for row in rows:
                yield entry_answer(row)
            if len(rows) < EXPORT_BATCH:
                return
            cursor = audit.cursor_after(rows[-1])

    def csv_chunks() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for entry in entries():
            row = entry.model_dump()
            row["changes"] = json.dumps(row["changes"], sort_keys=True)
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    def jsonl_chunks() -> Iterator[str]:
        for entry in entries():
            yield entry.model_dump_json() + "\n"

    filename = f"audit-log.{format}"
    return StreamingResponse(
        csv_chunks() if format == "csv" else jsonl_chunks(),
        media_type=EXPORT_FORMATS[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
