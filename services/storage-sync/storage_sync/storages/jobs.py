"""storage-sync's handler of project-svc's events: a deleted project's storages go with it."""

from __future__ import annotations

import logging

from labelops_common.events import PROJECT_DELETED, Event, event_handler
from sqlalchemy.orm import Session

from storage_sync.storages import service as storages

logger = logging.getLogger(__name__)


@event_handler(PROJECT_DELETED, consumer="storage-sync")
def delete_storages_of_deleted_project(event: Event, session: Session) -> None:
    deleted = storages.delete_project_storages(session, project_id=event.project_id)
    if deleted:
        logger.info(
            "storages of a deleted project removed",
            extra={"project_id": event.project_id, "storages": deleted},
        )
