"""Builds of data-field indexes, queued on the `imports` queue (their workers have the
database, and a build is an import of the project's own tasks into the side table).

A message carries only the definition id; a build that runs twice finds the definition
ready and does nothing. A process without a Celery app builds in a thread instead.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from labelops_common.db import Database
from labelops_common.queue import enqueue_after_commit, labelops_celery_app, labelops_task
from sqlalchemy.orm import Session

from task_svc.db import vacuum_analyze
from task_svc.fieldindexes import service

logger = logging.getLogger(__name__)

TASK_NAME = "task-svc.build_data_field_index"
QUEUE = "imports"

_database: Database | None = None


def configure(*, database: Database) -> None:
    """Called by `task_svc.app.build_service`; the last built instance wins."""
    global _database
    _database = database


def configured() -> Database:
    if _database is None:
        raise RuntimeError("task-svc was not built in this process; index builds cannot run")
    return _database


def enqueue_build(session: Session, index_id: int) -> None:
    """Queue the build once `session` commits (nothing is sent if it rolls back)."""
    enqueue_after_commit(session, _Dispatch(Database(session.get_bind().engine)), index_id)


class _Dispatch:
    """Sends through this process's LabelOps Celery app, as `imports.jobs` does; without
    one (a bare service), the build runs in a background thread, on the database of the
    session that asked for it (a process may hold several services, as tests do)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def apply_async(self, args: Any = (), kwargs: Any = None) -> None:
        app = labelops_celery_app()
        if app is None:
            threading.Thread(
                target=_run_in_thread,
                args=(*args, self._database),
                daemon=True,
                name="field-index-build",
            ).start()
            return
        try:
            app.send_task(TASK_NAME, args=list(args), kwargs=kwargs or {}, queue=QUEUE)
        except Exception:
            logger.exception("index build not sent; the definition stays building")


def _run_in_thread(index_id: int, database: Database) -> None:
    try:
        run_build(index_id, database=database)
    except Exception:
        logger.exception("index build crashed", extra={"index_id": index_id})


@labelops_task(name=TASK_NAME, queue=QUEUE)
def build_data_field_index(index_id: int) -> str:
    return run_build(index_id)


def run_build(index_id: int, *, database: Database | None = None) -> str:
    """Build one definition, VACUUM the entries so pages are index-only scans, and only
    then mark it ready: list queries never meet it half-maintained, and the VACUUM's
    work is over before anyone waiting for `ready` starts timing or loading the server."""
    database = database or configured()
    try:
        with database.session() as session:
            outcome = service.build_definition(session, index_id=index_id)
        if outcome == "built":
            vacuum_entries(database)
            with database.session() as session:
                outcome = service.mark_ready(session, index_id=index_id)
    except Exception:
        logger.exception("index build failed", extra={"index_id": index_id})
        with database.session() as session:
            service.mark_failed(session, index_id=index_id)
            session.commit()
        raise
    return outcome


def vacuum_entries(database: Database) -> None:
    """VACUUM (ANALYZE) data_field_entries: index-only scans skip the heap only on pages
    the visibility map marks all-visible, and the planner needs the new row counts.
    Best effort: a failure is logged and the index becomes ready all the same."""
    vacuum_analyze(database, "data_field_entries")
