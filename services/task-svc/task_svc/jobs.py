"""task-svc's jobs: the queues it owns, the modules defining their tasks, and what the
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
    from labelops_common.artifacts import ArtifactStorage
    from labelops_common.directory import ProjectDirectory

    from task_svc.imports.service import Limits

JOBS = ServiceJobs(
    # `events`: the deliver tasks of `labelops_common.events` (task-svc publishes most events).
    queues=("imports", "events"),
    job_modules=(
        # Large task imports (`{"import": id}`).
        "task_svc.imports.jobs",
        # Builds of data-field indexes.
        "task_svc.fieldindexes.jobs",
        # Analytics rollups, kept by handlers of the annotation, review and agreement events.
        "task_svc.analytics.jobs",
    ),
)


@dataclass(frozen=True)
class TaskJobResources(JobResources):
    """What task-svc's job bodies need from the instance built in this process."""

    service: ClassVar[str] = "task-svc"
    projects: ProjectDirectory
    #: Holds the spooled import bodies (an object store when workers run in other pods).
    storage: ArtifactStorage
    limits: Limits
