"""Request and response shapes of the organizations API (Label Studio's fields)."""

from __future__ import annotations

from labelops_common.auth.principal import Role
from labelops_common.http.answers import Timestamp
from pydantic import BaseModel, ConfigDict, Field

from project_svc.organizations.models import Organization
from project_svc.users.schemas import UserAnswer


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str | None = Field(default=None, min_length=1, max_length=1000)
    contact_info: str | None = Field(default=None, max_length=1000)


class OrganizationBrief(BaseModel):
    """An item of `GET /api/organizations` (Label Studio's `OrganizationId`)."""

    id: int
    title: str
    contact_info: str
    created_at: Timestamp


class OrganizationAnswer(OrganizationBrief):
    created_by: int | None
    legacy_api_tokens_enabled: bool
    api_tokens_enabled: bool


class InviteAnswer(BaseModel):
    """`GET /api/invite`: the link that lets someone sign up into the caller's organization."""

    token: str
    invite_url: str


class SessionPolicyAnswer(BaseModel):
    """`/api/session-policy/`, in minutes. LabelOps applies `max_session_age` to the session
    cookies it issues from then on; `max_time_between_activity` is kept for clients."""

    max_session_age: int
    max_time_between_activity: int
    created_at: Timestamp | None
    updated_at: Timestamp | None


class SessionPolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    max_session_age: int | None = Field(default=None, ge=1, le=525_600)
    max_time_between_activity: int | None = Field(default=None, ge=1, le=525_600)


class ProjectBrief(BaseModel):
    id: int
    title: str


class MemberAnswer(BaseModel):
    """`GET /api/organizations/{id}/memberships/{user}/` (Label Studio's `OrganizationMember`,
    plus the member's `role`). The annotation figures live in task-svc and are not joined
    here: they are null."""

    user: int
    organization: int
    role: Role
    created_at: Timestamp
    created_projects: list[ProjectBrief]
    contributed_to_projects: list[ProjectBrief] | None
    annotations_count: int | None
    contributed_projects_count: int | None


class MembershipUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role


class MembershipAnswer(BaseModel):
    id: int
    organization: int
    role: Role
    user: UserAnswer


def organization_brief(organization: Organization) -> OrganizationBrief:
    return OrganizationBrief(
        id=organization.id,
        title=organization.title,
        contact_info=organization.contact_info,
        created_at=organization.created_at.isoformat(),
    )


def organization_response(organization: Organization) -> OrganizationAnswer:
    return OrganizationAnswer(
        id=organization.id,
        title=organization.title,
        contact_info=organization.contact_info,
        created_at=organization.created_at.isoformat(),
        created_by=organization.created_by_id,
        legacy_api_tokens_enabled=organization.legacy_api_tokens_enabled,
        api_tokens_enabled=organization.api_tokens_enabled,
    )
