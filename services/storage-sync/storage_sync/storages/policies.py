"""Who may do what with storages.

Label Studio lets those who may change a project (owners, administrators, managers)
add, edit, validate, sync and delete its storages: a storage holds cloud credentials
and decides what enters the project. Anyone of the project's organization may open the
media its tasks reference. A project of another organization is not found, not forbidden.
"""

from labelops_common.auth.policies import MANAGER_ROLES
from labelops_common.auth.principal import Principal
from labelops_common.directory import ProjectInfo


def can_manage_storages(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and principal.role in MANAGER_ROLES


def can_read_media(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id
