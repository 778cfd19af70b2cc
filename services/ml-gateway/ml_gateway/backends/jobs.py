"""ml-gateway's handler of project-svc's events: a deleted project's ML backends go with it."""

from __future__ import annotations

import logging

from labelops_common.events import PROJECT_DELETED, Event, event_handler
from labelops_common.jobs import resources_of
from sqlalchemy.orm import Session

from ml_gateway.backends import service
from ml_gateway.jobs import MLJobResources

logger = logging.getLogger(__name__)


@event_handler(PROJECT_DELETED, consumer="ml-gateway")
def delete_backends_of_deleted_project(event: Event, session: Session) -> None:
    """Its backends would otherwise stay forever, passwords included."""
    client = resources_of(MLJobResources).client
    backends = service.list_backends(session, project_id=event.project_id)
    for backend in backends:
        service.delete_backend(session, client=client, backend=backend)
    if backends:
        logger.info(
            "ML backends of a deleted project removed",
            extra={"project_id": event.project_id, "backends": len(backends)},
        )
