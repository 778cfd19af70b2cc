"""`/api/tasks/{id}/agreement/` and `/api/projects/{id}/agreement/` (thin)."""

from __future__ import annotations

from typing import Any

from labelops_common.auth.authenticate import CurrentUser
from labelops_common.http.routing import ApiRouter

from task_svc import access
from task_svc.agreement import service as agreement
from task_svc.agreement.schemas import ProjectAgreementAnswer, TaskAgreementAnswer
from task_svc.dependencies import DbSession, Projects
from task_svc.tasks import service as tasks

router = ApiRouter(tags=["agreement"])


@router.get(
    "/api/tasks/{task_id:int}/agreement",
    response_model=TaskAgreementAnswer,
    response_model_exclude_unset=True,
)
def task_agreement(
    task_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    """Members read the distribution and the task's agreement; the per-pair scores, which
    rate named annotators against each other, only managers and above."""
    task, project = access.task_for(session, projects, principal, task_id, access.can_view_tasks)
    scores = agreement.task_agreement(session, task_id=task.id)
    if not access.can_manage_tasks(principal, project):
        scores["pairs"] = []
    return {**tasks.label_distribution(session, task_id=task.id), **scores}


@router.get("/api/projects/{project_id:int}/agreement", response_model=ProjectAgreementAnswer)
def project_agreement(
    project_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    project = access.project_for(projects, principal, project_id, access.can_manage_tasks)
    return agreement.project_agreement(session, project=project)
