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
