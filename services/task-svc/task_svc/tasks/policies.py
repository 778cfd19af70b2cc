"""Who may do what to tasks, annotations and predictions.

Members of the project's organization may read tasks and annotate; owners,
administrators and managers may import, edit and delete tasks. A project of another
organization is not found rather than forbidden, so ids don't leak.
"""

from labelops_common.auth.policies import MANAGER_ROLES
from labelops_common.auth.principal import Principal
from labelops_common.directory import ProjectInfo


def can_view_tasks(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id


def can_annotate(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id


def can_manage_tasks(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and principal.role in MANAGER_ROLES


def can_change_annotation(
    principal: Principal, project: ProjectInfo, author_id: int | None
) -> bool:
    """Authors change their own annotations; managers change anyone's."""
    if principal.organization_id != project.organization_id:
        return False
    return principal.role in MANAGER_ROLES or author_id == principal.user_id
