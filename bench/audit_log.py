"""The audit log at scale: one service's `audit_entries` with N entries (default 1M) on the
test PostgreSQL, then the reads `/api/audit-logs/` makes and a retention purge.

    uv run --no-sync python -m bench.audit_log            # 1,000,000 entries
    uv run --no-sync python -m bench.audit_log 200000

Needs `.testinfra/env` (a running test PostgreSQL); creates and drops its own database.
It measures and prints, it asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta

from labelops_common.audit import AuditFilter, Before, list_audit_entries, purge_audit_entries
from labelops_common.db import Database
from labelops_testing.databases import scratch_database_url
from sqlalchemy import text
from task_svc.audit.models import AuditEntry

ORGANIZATIONS = 10
PROJECTS = 200


def timed(label: str, call: Callable[[], object], repeat: int = 20) -> None:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    print(f"{label:<58} median {statistics.median(times):7.2f} ms  max {max(times):7.2f} ms")


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with scratch_database_url("audit-bench") as url:
        database = Database.from_url(url)
        AuditEntry.metadata.create_all(database.engine, tables=[AuditEntry.__table__])
        start = time.perf_counter()
        with database.engine.begin() as connection:
            # Spread over 400 days, so a 365-day retention has a tenth to delete.
            connection.execute(
                text(
                    "INSERT INTO audit_entries (organization_id, actor_id, actor_email, action,"
                    " object_type, object_id, project_id, changes, created_at)"
                    " SELECT n % :orgs + 1, n % 50, 'user' || (n % 50) || '@example.com',"
                    " 'task.updated', 'task', (n / 3)::text, n % :projects + 1,"
                    ' \'{"meta": {"changed": true}}\'::jsonb,'
                    " now() - (n::float / :size * 400) * interval '1 day'"
                    " FROM generate_series(1, :size) AS n"
                ),
                {"orgs": ORGANIZATIONS, "projects": PROJECTS, "size": size},
            )
            connection.execute(text("ANALYZE audit_entries"))
        print(f"{size:,} entries written in {time.perf_counter() - start:.1f} s")
        with database.session() as session:
            org = AuditFilter(organization_id=3)
            timed(
                "newest page of 51 (an organization)",
                lambda: list_audit_entries(session, where=org, limit=51),
            )
            page = list_audit_entries(session, where=org, limit=51)
            deep = Before(created_at=page[-1]["created_at"], id=page[-1]["id"])
            timed(
                "next page by cursor",
                lambda: list_audit_entries(session, where=org, before=deep, limit=51),
            )
            timed(
                "one project's page",
                lambda: list_audit_entries(
                    session, where=AuditFilter(organization_id=3, project_id=13), limit=51
                ),
            )
            timed(
                "one object's history",
                lambda: list_audit_entries(
                    session,
                    where=AuditFilter(organization_id=3, object_type="task", object_id="1000"),
                    limit=51,
                ),
            )
            timed(
                "one action's page",
                lambda: list_audit_entries(
                    session, where=AuditFilter(organization_id=3, action="task.updated"), limit=51
                ),
            )
            timed(
                "one actor's page",
                lambda: list_audit_entries(
                    session, where=AuditFilter(organization_id=3, actor_id=13), limit=51
                ),
            )
        start = time.perf_counter()
        removed = batches = 0
        while True:
            with database.session() as session:
                batch = purge_audit_entries(session, older_than=timedelta(days=365))
                session.commit()
            removed += batch
            batches += 1
            if batch == 0:
                break
        print(
            f"retention purge: {removed:,} entries in {batches} batches,"
            f" {time.perf_counter() - start:.1f} s"
        )
        database.engine.dispose()


if __name__ == "__main__":
    main()
