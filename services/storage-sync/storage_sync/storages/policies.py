"""Who may do what with storages.

Label Studio lets those who may change a project (owners, administrators, managers)
add, edit, validate, sync and delete its storages: a storage holds cloud credentials
and decides what enters the project. Whoever may see the project (managers and up, and
its annotator and reviewer members) may open the media its tasks reference. A project the
caller may not see is not found, not forbidden.
"""

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.policies import can_see_project
from labelops_common.auth.principal import Principal
from labelops_common.directory import ProjectInfo


def can_manage_storages(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and can(
        principal, Action.MANAGE_STORAGES
    )


def can_read_media(principal: Principal, project: ProjectInfo | None) -> bool:
    return project is not None and can_see_project(
        principal,
        organization_id=project.organization_id,
        is_member=principal.user_id in project.member_user_ids,
    )
