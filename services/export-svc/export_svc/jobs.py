"""export-svc's jobs: the queues it owns, the modules defining their tasks, and what the
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
    from labelops_common.directory import ProjectDirectory, UserDirectory

    from export_svc.artifacts import ArtifactStorage
    from export_svc.media import MediaAccess
    from export_svc.storages import StorageClient
    from export_svc.tasks.stream import TaskSource

JOBS = ServiceJobs(
    queues=("exports",),
    # Export snapshots and conversions.
    job_modules=("export_svc.exports.jobs",),
)


@dataclass(frozen=True)
class ExportJobResources(JobResources):
    """What export-svc's job bodies need from the instance built in this process."""

    service: ClassVar[str] = "export-svc"
    projects: ProjectDirectory
    people: UserDirectory
    storage: ArtifactStorage
    source: TaskSource
    media: MediaAccess
    #: storage-sync: export storages snapshots are written to.
    storages: StorageClient
    #: `Settings.progress_interval_seconds` and `Settings.snapshot_retention_days`.
    progress_interval_seconds: float = 1.0
    retention_days: float = 0.0
