"""Job records with leases: long work as rows, messages as triggers."""

from labelops_common.jobs.models import JobRecordMixin, JobStatus
from labelops_common.jobs.resources import (
    JobResources,
    job_resources,
    register_job_resources,
    resources_of,
    unregister_job_resources,
)
from labelops_common.jobs.runner import (
    JobCancelled,
    JobContext,
    LeaseLost,
    StaleJobSweeper,
    requeue_stale_jobs,
    run_job,
)
from labelops_common.jobs.service import (
    QUEUED_GRACE,
    cancel_job,
    claim_job,
    complete_job,
    create_job,
    fail_job,
    find_stale_jobs,
    renew_lease,
)

__all__ = [
    "QUEUED_GRACE",
    "JobCancelled",
    "JobContext",
    "JobRecordMixin",
    "JobResources",
    "JobStatus",
    "LeaseLost",
    "StaleJobSweeper",
    "cancel_job",
    "claim_job",
    "complete_job",
    "create_job",
    "fail_job",
    "find_stale_jobs",
    "job_resources",
    "register_job_resources",
    "renew_lease",
    "requeue_stale_jobs",
    "resources_of",
    "run_job",
    "unregister_job_resources",
]
