"""ml-gateway's jobs: the queues it owns, the modules defining their tasks, and what the
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

    from ml_gateway.backends.protocol import ProtocolClient
    from ml_gateway.predictions.tasks import TaskStore

JOBS = ServiceJobs(
    # `events`: annotation events train backends when a project asks for it.
    queues=("ml", "events"),
    job_modules=(
        # Prediction jobs ("Retrieve predictions").
        "ml_gateway.predictions.jobs",
        # Training jobs, and the annotation events that start them.
        "ml_gateway.training.jobs",
        # A deleted project's backends go on project-svc's event.
        "ml_gateway.backends.jobs",
    ),
)


@dataclass(frozen=True)
class MLJobResources(JobResources):
    """What ml-gateway's job bodies need from the instance built in this process."""

    service: ClassVar[str] = "ml-gateway"
    projects: ProjectDirectory
    client: ProtocolClient
    tasks: TaskStore
