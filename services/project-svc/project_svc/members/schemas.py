from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from project_svc.members.models import ProjectMember
from project_svc.users.models import User
from project_svc.users.schemas import UserAnswer, user_response


class MemberBody(BaseModel):
    """Label Studio Enterprise's body for adding (and, as it still accepts, removing) one."""

    model_config = ConfigDict(extra="ignore")

    user: int


class MemberAnswer(BaseModel):
    """A project member: the user's id as the SDK's `ProjectMember` reads it, and who it is."""

    id: int
    user: int
    project: int
    created_at: datetime
    user_info: UserAnswer


def member_response(member: ProjectMember, user: User) -> MemberAnswer:
    return MemberAnswer(
        id=member.id,
        user=member.user_id,
        project=member.project_id,
        created_at=member.created_at,
        user_info=user_response(user),
    )
