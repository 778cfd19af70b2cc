"""Who may see and change webhooks.

A webhook sends the organization's data to a URL of the creator's choosing, so only
those who configure projects (owners, administrators, managers) may list, create or
change a project's webhooks; organization webhooks, which see every project, are for
owners and administrators. Another organization's webhook is not found, never forbidden.
"""

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.principal import Principal


def can_manage_webhooks(
    principal: Principal, *, organization_id: int, project_id: int | None
) -> bool:
    if principal.organization_id != organization_id:
        return False
    if project_id is None:
        return can(principal, Action.MANAGE_ORGANIZATION_WEBHOOKS)
    return can(principal, Action.MANAGE_PROJECT_WEBHOOKS)
