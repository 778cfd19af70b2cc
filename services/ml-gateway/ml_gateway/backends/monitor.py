"""The schedule that keeps every backend's state and model version fresh.

Label Studio calls `/health` and `/setup` inside the list request; here a thread of each
ml-gateway process does it every `refresh_interval_seconds`, so listing backends never
waits on a model server. Replicas share the work: each claims the backends due (rows
locked by another replica are skipped) and moves their `checked_at` before calling.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from labelops_common.db import Database
from labelops_common.directory import ProjectInfo

from ml_gateway.backends import service
from ml_gateway.backends.models import BackendState, MLBackend
from ml_gateway.backends.protocol import ProtocolClient

logger = logging.getLogger(__name__)

#: Backends refreshed per round and process.
BATCH = 50


def refresh_backend(
    database: Database,
    client: ProtocolClient,
    backend_id: int,
    project_for: Callable[[int], ProjectInfo | None],
) -> None:
    """Call the backend's `/health` and `/setup` and record what they said."""
    with database.session() as session:
        backend = session.get(MLBackend, backend_id)
        if backend is None:
            return
        endpoint = service.endpoint_of(backend)
        extra = backend.extra_params
        project_id = backend.project_id
    project = project_for(project_id)
    if project is None:
        connection = service.Connection(
            BackendState.ERROR, error="the project of this backend no longer exists"
        )
    else:
        connection = service.check_connection(client, endpoint, project, extra)
    with database.session() as session:
        backend = session.get(MLBackend, backend_id)
        if backend is None:
            return
        service.apply_connection(backend, connection)
        session.commit()


def refresh_due(
    database: Database,
    client: ProtocolClient,
    project_for: Callable[[int], ProjectInfo | None],
    *,
    interval_seconds: float,
    limit: int = BATCH,
) -> int:
    """One round: refresh the backends whose last check is older than the interval."""
    with database.session() as session:
        due = service.due_for_refresh(session, interval_seconds=interval_seconds, limit=limit)
        session.commit()
    for backend_id in due:
        try:
            refresh_backend(database, client, backend_id, project_for)
        except Exception:
            logger.exception("ML backend refresh failed", extra={"ml_backend_id": backend_id})
    return len(due)


class BackendMonitor(threading.Thread):
    def __init__(
        self,
        database: Database,
        client: ProtocolClient,
        project_for: Callable[[int], ProjectInfo | None],
        *,
        interval_seconds: float,
    ) -> None:
        super().__init__(daemon=True, name="ml-backend-monitor")
        self._database = database
        self._client = client
        self._project_for = project_for
        self._interval = interval_seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        # A round every tenth of the interval picks up the backends that came due.
        while not self._stop_event.wait(max(self._interval / 10, 0.5)):
            try:
                refresh_due(
                    self._database,
                    self._client,
                    self._project_for,
                    interval_seconds=self._interval,
                )
            except Exception:
                logger.exception("ML backend refresh round failed")

    def stop(self) -> None:
        self._stop_event.set()
