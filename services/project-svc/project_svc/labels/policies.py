"""Who may use the label library: every member reads it; managers and above change it."""

from labelops_common.auth.policies import MANAGER_ROLES
from labelops_common.auth.principal import Principal


def can_view_labels(principal: Principal) -> bool:
    return True


def can_change_labels(principal: Principal) -> bool:
    return principal.role in MANAGER_ROLES
