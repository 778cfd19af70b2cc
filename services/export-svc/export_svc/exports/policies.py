"""Who may export.

Label Studio lists formats to anyone who may view the project (`projects.view`) and lets
only those who may change it (`projects.change`: owners, administrators, managers) export,
list, create, download and delete snapshots: an export hands out every annotation of the
project. A project of another organization is not found rather than forbidden.
"""

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.principal import Principal
from labelops_common.directory import ProjectInfo


def can_list_formats(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and can(
        principal, Action.VIEW_TASKS
    )


def can_export(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and can(principal, Action.EXPORT)
