"""Job records with leases: long work as rows, messages as triggers."""

from labelops_common.jobs.models import JobRecordMixin, JobStatus
from labelops_common.jobs.runner import (
    JobContext,
    LeaseLost,
    StaleJobSweeper,
    requeue_stale_jobs,
    run_job,
)
from labelops_common.jobs.service import (
    cancel_job,
    claim_job,
    complete_job,
    create_job,
    fail_job,
    find_stale_jobs,
    renew_lease,
)

__all__ = [
    "JobContext",
    "JobRecordMixin",
    "JobStatus",
    "LeaseLost",
    "StaleJobSweeper",
    "cancel_job",
    "claim_job",
    "complete_job",
    "create_job",
    "fail_job",
    "find_stale_jobs",
    "renew_lease",
    "requeue_stale_jobs",
    "run_job",
]
