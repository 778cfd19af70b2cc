"""Builds of data-field indexes, queued on the `imports` queue (their workers have the
database, and a build is an import of the project's own tasks into the side table).

A message carries only the definition id; a build that runs twice finds the definition
ready and does nothing. It is sent through the one job handle (after the commit that
created the definition; in a process without a Celery app, run in a thread on the
database of the session that asked for it).

Why a build is not a job row (`JobRecordMixin`) run by `run_job`: the definition row
already is the build's state, and readers depend on it — list queries use an index only
once its definition is `ready`, a failed one is never used, and the lease a job row
would add is replaced by the request path itself: a page asked for a definition still
`building` after `RETRY_BUILD_AFTER` queues it again (`service._request_again_if_stale`). A
separate job row would duplicate that state and its retry, and a stale-job sweep would
race the request path's; so the handle has no job model and no sweep.
"""

from __future__ import annotations

import logging

from labelops_common.db import Database
from labelops_common.queue import labelops_task

from task_svc.db import vacuum_analyze
from task_svc.fieldindexes import service
from task_svc.jobs import TaskJobResources

logger = logging.getLogger(__name__)


@labelops_task(name="task-svc.build_data_field_index", queue="imports", resources=TaskJobResources)
def build_data_field_index(resources: TaskJobResources, index_id: int) -> str:
    """Build one definition, VACUUM the entries so pages are index-only scans, and only
    then mark it ready: list queries never meet it half-maintained, and the VACUUM's
    work is over before anyone waiting for `ready` starts timing or loading the server."""
    database = resources.database
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
