"""The record of events task-svc's own handlers have applied (`labelops_common.events`)."""

from labelops_common.events import ProcessedEventMixin

from task_svc.db import Base


class ProcessedEvent(ProcessedEventMixin, Base):
    pass
