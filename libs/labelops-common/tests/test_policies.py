"""The rank rule every policy on another user goes through."""

from __future__ import annotations

import pytest
from labelops_common.auth.policies import (
    can_act_on_user,
    can_grant_role,
    can_read_audit_log,
    outranks,
)
from labelops_common.auth.principal import Principal, Role

ORDER = [Role.ANNOTATOR, Role.REVIEWER, Role.MANAGER, Role.ADMINISTRATOR, Role.OWNER]


def _principal(role: Role, user_id: int = 1) -> Principal:
    return Principal(user_id=user_id, organization_id=1, role=role)


@pytest.mark.parametrize("caller", ORDER)
@pytest.mark.parametrize("target", ORDER)
def test_only_a_strictly_higher_rank_acts_on_another_user(caller: Role, target: Role) -> None:
    above = ORDER.index(caller) > ORDER.index(target)
    assert outranks(caller, target) is above
    assert can_act_on_user(_principal(caller), user_id=2, role=target) is above
    assert can_act_on_user(_principal(caller), user_id=1, role=target) is True
    assert can_grant_role(_principal(caller), target) is (
        ORDER.index(target) <= ORDER.index(caller)
    )


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OWNER, True),
        (Role.ADMINISTRATOR, True),
        (Role.MANAGER, False),
        (Role.REVIEWER, False),
        (Role.ANNOTATOR, False),
    ],
)
def test_only_owners_and_administrators_read_the_audit_log(role: Role, allowed: bool) -> None:
    principal = Principal(user_id=1, organization_id=1, role=role)
    assert can_read_audit_log(principal, organization_id=1) is allowed
    assert can_read_audit_log(principal, organization_id=2) is False
