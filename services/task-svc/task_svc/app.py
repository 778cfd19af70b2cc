"""Builds task-svc: tasks, annotations and predictions over REST, counters and bulk RPCs over gRPC.

Uploaded files and spooled import bodies go to the artifact storage
`LABELOPS_ARTIFACT_STORAGE` names (local disk under the uploads dir by default; S3, GCS or
Azure Blob when the import workers and the API run in different pods).
"""

from __future__ import annotations

from pathlib import Path

from labelops_common.artifacts import artifact_storage
from labelops_common.directory import ProjectDirectory, UserDirectory
from labelops_common.service import ServiceRuntime, assemble_service
from labelops_common.settings import CommonSettings

from task_svc.agreement.router import router as agreement_router
from task_svc.analytics.router import router as analytics_router
from task_svc.annotations.router import router as annotations_router
from task_svc.assignments.router import router as assignments_router
from task_svc.comments.router import router as comments_router
from task_svc.datamanager.router import router as datamanager_router
from task_svc.drafts.router import router as drafts_router
from task_svc.fsm.router import router as fsm_router
from task_svc.imports.router import router as imports_router
from task_svc.imports.service import Limits
from task_svc.jobs import JOBS, TaskJobResources
from task_svc.labelstream.router import router as labelstream_router
from task_svc.media.service import MediaResolver
from task_svc.predictions.router import router as predictions_router
from task_svc.reviews.router import router as reviews_router
from task_svc.rpc import register_task_service
from task_svc.settings import Settings
from task_svc.tasks.router import router as tasks_router


def build_service(common: CommonSettings, settings: Settings | None = None) -> ServiceRuntime:
    settings = settings or Settings()
    projects = ProjectDirectory(common)
    runtime = assemble_service(
        common=common,
        settings=settings,
        routers=[
            tasks_router,
            agreement_router,
            annotations_router,
            predictions_router,
            datamanager_router,
            drafts_router,
            imports_router,
            labelstream_router,
            fsm_router,
            comments_router,
            assignments_router,
            reviews_router,
            analytics_router,
        ],
        migrations_dir=Path(__file__).parent / "migrations",
        grpc_registrations=lambda database: [register_task_service(database, projects)],
        grpc_service_names=("labelops.task.v1.TaskService",),
        jobs=JOBS,
        peers=("project-svc",),
    )
    storage = artifact_storage(common, local_root=settings.resolved_uploads_dir(common))
    runtime.http_app.state.project_directory = projects
    runtime.http_app.state.artifact_storage = storage
    runtime.http_app.state.user_directory = UserDirectory(common)
    runtime.http_app.state.media_resolver = MediaResolver(common)
    # Job bodies run outside any request: they get this instance's parts.
    runtime.provide_job_resources(
        TaskJobResources(
            database=runtime.database,
            projects=projects,
            storage=storage,
            limits=Limits(
                max_tasks=settings.import_max_tasks, batch_size=settings.import_batch_size
            ),
        )
    )
    return runtime
