"""Who may see and manage users. Users are visible only inside their organization."""

from labelops_common.auth.policies import ADMIN_ROLES, MANAGER_ROLES
from labelops_common.auth.principal import Principal


def can_list_users(principal: Principal) -> bool:
    return principal.role in MANAGER_ROLES


def can_view_user(principal: Principal, user_id: int) -> bool:
    return principal.user_id == user_id or principal.role in MANAGER_ROLES


def can_create_user(principal: Principal) -> bool:
    return principal.role in ADMIN_ROLES


def can_update_user(principal: Principal, user_id: int) -> bool:
    return principal.user_id == user_id or principal.role in ADMIN_ROLES


def can_delete_user(principal: Principal, user_id: int) -> bool:
    return principal.user_id != user_id and principal.role in ADMIN_ROLES
