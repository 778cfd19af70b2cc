"""project-svc's jobs: the queues it owns and the modules defining their tasks.

Read without building the service (`labelops worker --queues X` builds only the owners of X).
"""

from labelops_common.service import ServiceJobs

JOBS = ServiceJobs(queues=("webhooks",))
