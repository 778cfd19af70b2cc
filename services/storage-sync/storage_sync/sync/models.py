"""The record of task-svc events this service has applied (export on save)."""

from labelops_common.events import ProcessedEventMixin

from storage_sync.db import Base


class ProcessedEvent(ProcessedEventMixin, Base):
    pass
