"""Who may do what with a project's ML backends.

Members of the project's organization may see its backends, their versions, and use
interactive labeling (annotators use the smart tools); owners, administrators and managers
may connect, change, delete, train and test them (Label Studio's `projects.change`). A
project of another organization is not found rather than forbidden.
"""

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.principal import Principal
from labelops_common.directory import ProjectInfo


def can_view_backends(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and can(
        principal, Action.VIEW_TASKS
    )


def can_use_interactive(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and can(principal, Action.ANNOTATE)


def can_manage_backends(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and can(
        principal, Action.MANAGE_ML_BACKENDS
    )
