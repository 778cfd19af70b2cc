"""Entries on PostgreSQL: written in the caller's transaction, read newest first with
filters and keyset pages, forgotten after the retention period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from labelops_common.audit import (
    MASK,
    Actor,
    AuditEntryMixin,
    AuditFilter,
    AuditRetentionSweep,
    Before,
    RequestOrigin,
    bind_request_origin,
    list_audit_entries,
    purge_expired_audit_entries,
    record_audit,
)
from labelops_common.audit.rpc import (
    AuditLogServicer,
    entry_from_message,
    from_microseconds,
    request_for,
    to_microseconds,
)
from labelops_common.auth.principal import Principal, Role
from labelops_common.db import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, Database
from labelops_testing.databases import scratch_database_url
from sqlalchemy import MetaData, func, select, update
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class AuditEntry(AuditEntryMixin, Base):
    pass


OWNER = Principal(user_id=7, organization_id=1, role=Role.OWNER, email="owner@example.com")
OTHER_ORG = Principal(user_id=8, organization_id=2, role=Role.OWNER, email="x@example.com")


@pytest.fixture()
def database() -> Iterator[Database]:
    with scratch_database_url("audit") as url:
        database = Database.from_url(url)
        Base.metadata.create_all(database.engine)
        yield database
        database.engine.dispose()


def count(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_an_entry_commits_with_the_change_and_carries_who_and_where(database: Database) -> None:
    with database.session() as session:
        bind_request_origin(session, RequestOrigin(request_id="req-1", client_ip="10.0.0.9"))
        record_audit(
            session,
            OWNER,
            "project.updated",
            ("project", 42),
            project_id=42,
            changes={"title": {"old": "a", "new": "b"}, "secret": {"old": "s1", "new": "s2"}},
        )
        session.commit()
    with database.session() as session:
        [row] = list_audit_entries(session, where=AuditFilter(organization_id=1))
    assert row["actor_id"] == 7
    assert row["actor_email"] == "owner@example.com"
    assert (row["action"], row["object_type"], row["object_id"]) == (
        "project.updated",
        "project",
        "42",
    )
    assert row["project_id"] == 42
    assert row["changes"] == {
        "title": {"old": "a", "new": "b"},
        "secret": {"old": MASK, "new": MASK},
    }
    assert (row["request_id"], row["client_ip"]) == ("req-1", "10.0.0.9")


def test_a_rolled_back_change_leaves_no_entry(database: Database) -> None:
    with database.session() as session:
        record_audit(session, OWNER, "project.deleted", ("project", 1))
        session.rollback()
    assert count(database) == 0


def test_a_job_records_for_the_person_it_acts_for(database: Database) -> None:
    with database.session() as session:
        record_audit(
            session,
            Actor(user_id=3, organization_id=1, email="a@example.com"),
            "tasks.imported",
            ("import", 5),
            project_id=9,
            changes={"task_count": 1000},
        )
        session.commit()
        [row] = list_audit_entries(session, where=AuditFilter(organization_id=1))
    assert (row["actor_id"], row["actor_email"], row["changes"]) == (
        3,
        "a@example.com",
        {"task_count": 1000},
    )


def _seed(database: Database) -> None:
    with database.session() as session:
        for n in range(5):
            record_audit(session, OWNER, "task.updated", ("task", n), project_id=1 + n % 2)
        record_audit(session, OTHER_ORG, "task.updated", ("task", 99), project_id=7)
        session.commit()


def test_lists_newest_first_with_filters_and_keyset_pages(database: Database) -> None:
    _seed(database)
    with database.session() as session:
        everything = list_audit_entries(session, where=AuditFilter(organization_id=1))
        assert [row["object_id"] for row in everything] == ["4", "3", "2", "1", "0"]
        in_project = list_audit_entries(session, where=AuditFilter(organization_id=1, project_id=2))
        assert [row["object_id"] for row in in_project] == ["3", "1"]
        one = list_audit_entries(
            session, where=AuditFilter(organization_id=1, object_type="task", object_id="2")
        )
        assert [row["object_id"] for row in one] == ["2"]
        first = list_audit_entries(session, where=AuditFilter(organization_id=1), limit=2)
        after = Before(created_at=first[-1]["created_at"], id=first[-1]["id"])
        second = list_audit_entries(
            session, where=AuditFilter(organization_id=1), before=after, limit=10
        )
        assert [row["object_id"] for row in first + second] == ["4", "3", "2", "1", "0"]
        assert list_audit_entries(session, where=AuditFilter(organization_id=1, actor_id=8)) == []


def test_the_grpc_servicer_serves_the_same_page(database: Database) -> None:
    _seed(database)
    where = AuditFilter(organization_id=1, project_id=1)
    answer = AuditLogServicer(database).ListAuditEntries(
        request_for(where, before=None, limit=10),
        context=None,  # type: ignore[arg-type]
    )
    rows = [entry_from_message(message) for message in answer.entries]
    assert [row["object_id"] for row in rows] == ["4", "2", "0"]
    assert all(row["organization_id"] == 1 for row in rows)


def test_microseconds_round_trip() -> None:
    moment = datetime(2026, 12, 5, 20, 1, 2, 345678, tzinfo=UTC)
    assert from_microseconds(to_microseconds(moment)) == moment


def test_retention_deletes_only_entries_older_than_the_period(database: Database) -> None:
    _seed(database)
    with database.session() as session:
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.object_id.in_(["0", "1"]))
            .values(created_at=datetime.now(UTC) - timedelta(days=400))
        )
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.object_id == "2")
            .values(created_at=datetime.now(UTC) - timedelta(days=364))
        )
        session.commit()
    removed = purge_expired_audit_entries(database.new_session, retention_days=365, batch_size=1)
    assert removed == 2
    with database.session() as session:
        left = sorted(session.scalars(select(AuditEntry.object_id)))
    assert left == ["2", "3", "4", "99"]
    assert purge_expired_audit_entries(database.new_session, retention_days=0) == 0


def test_the_retention_sweep_runs_at_most_once_per_interval(database: Database) -> None:
    _seed(database)
    with database.session() as session:
        session.execute(update(AuditEntry).values(created_at=datetime.now(UTC) - timedelta(days=9)))
        session.commit()
    sweep = AuditRetentionSweep(session_factory=database.new_session, retention_days=5)
    assert sweep() == 6
    _seed(database)
    with database.session() as session:
        session.execute(update(AuditEntry).values(created_at=datetime.now(UTC) - timedelta(days=9)))
        session.commit()
    assert sweep() == 0  # within the interval: nothing runs
    assert count(database) == 6
