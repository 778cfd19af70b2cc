"""storage-sync's jobs: the queues it owns, the modules defining their tasks, and what the
task bodies get from the built service.

Read without building the service (`labelops worker --queues X` builds only the owners of
X), so it imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from labelops_common.jobs import JobResources
from labelops_common.service import ServiceJobs

if TYPE_CHECKING:
    from labelops_common.directory import ProjectDirectory

    from storage_sync.backends import ConnectContext
    from storage_sync.settings import Settings
    from storage_sync.storages.secrets import SecretBox
    from storage_sync.sync.tasks import TaskClient

JOBS = ServiceJobs(
    # Syncs run on `storage`; export-on-save follows task-svc's events, and a deleted
    # project's storages go on project-svc's.
    queues=("storage", "events"),
    job_modules=("storage_sync.sync.jobs", "storage_sync.storages.jobs"),
)


@dataclass(frozen=True)
class StorageJobResources(JobResources):
    """What storage-sync's job bodies and event handlers need from the built instance."""

    service: ClassVar[str] = "storage-sync"
    settings: Settings
    projects: ProjectDirectory
    box: SecretBox
    context: ConnectContext
    tasks: TaskClient
