"""project-svc's jobs: the queues it owns, the modules defining their tasks, and what the
task bodies get from the built service.

Read without building the service (`labelops worker --queues X` builds only the owners of
X), so it imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from labelops_common.jobs import JobResources
from labelops_common.service import ServiceJobs

if TYPE_CHECKING:
    from project_svc.settings import Settings
    from project_svc.webhooks.delivery import WebhookHttp
    from project_svc.webhooks.payloads import ProjectPayloads, TaskReader

JOBS = ServiceJobs(
    # `webhooks`: deliveries. `events`: project-svc turns events into deliveries.
    queues=("webhooks", "events"),
    job_modules=("project_svc.webhooks.jobs",),
)


@dataclass(frozen=True)
class ProjectJobResources(JobResources):
    """What project-svc's job bodies need from the instance built in this process."""

    service: ClassVar[str] = "project-svc"
    settings: Settings
    secret_key: str
    #: The project part of payloads, read at most a second before.
    project_payloads: ProjectPayloads
    read_tasks: TaskReader
    #: Webhook requests go through this client of the outbound address policy.
    http: WebhookHttp
    #: Project id → its organization, for events that do not name it (a project never
    #: changes organization): the webhook handler reads it once per project, not per event.
    project_organizations: dict[int, int] = field(default_factory=dict)
