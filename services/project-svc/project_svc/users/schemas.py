"""Request and response shapes of the users API (Label Studio's fields)."""

from __future__ import annotations

from typing import Any

from labelops_common.auth.principal import Role
from labelops_common.http.answers import Timestamp
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from project_svc.organizations.models import Organization
from project_svc.users.models import User


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: EmailStr
    password: str | None = Field(default=None, max_length=256)
    username: str = Field(default="", max_length=150)
    first_name: str = Field(default="", max_length=256)
    last_name: str = Field(default="", max_length=256)
    phone: str = Field(default="", max_length=256)
    role: Role = Role.ANNOTATOR


class UserUpdate(BaseModel):
    """Label Studio's fields, plus LabelOps' `password`, `current_password` and `role`."""

    model_config = ConfigDict(extra="ignore")

    email: EmailStr | None = None
    password: str | None = Field(default=None, max_length=256)
    current_password: str | None = Field(
        default=None,
        max_length=256,
        description="Required to change one's own password or email.",
    )
    role: Role | None = Field(
        default=None, description="The user's role in the caller's organization."
    )
    username: str | None = Field(default=None, max_length=150)
    first_name: str | None = Field(default=None, max_length=256)
    last_name: str | None = Field(default=None, max_length=256)
    phone: str | None = Field(default=None, max_length=256)
    allow_newsletters: bool | None = None


class HotkeysUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    custom_hotkeys: dict[str, Any]


class UserAnswer(BaseModel):
    """A user as Label Studio serializes one (`/api/users`, memberships, sign-in)."""

    id: int
    first_name: str
    last_name: str
    username: str
    email: str
    last_activity: Timestamp
    custom_hotkeys: dict[str, Any]
    avatar: str | None
    initials: str
    phone: str
    active_organization: int | None
    allow_newsletters: bool | None
    date_joined: Timestamp


class OrganizationMeta(BaseModel):
    title: str
    email: str


class WhoamiAnswer(UserAnswer):
    """`GET /api/current-user/whoami`: the caller, with their organization and role."""

    active_organization_meta: OrganizationMeta | None
    role: Role | None
    permissions: list[str]


class HotkeysAnswer(BaseModel):
    custom_hotkeys: dict[str, Any]


class LegacyTokenAnswer(BaseModel):
    """The caller's legacy API key (`/api/current-user/token`, `reset-token`)."""

    token: str


def initials(user: User) -> str:
    if user.first_name or user.last_name:
        return (user.first_name[:1] + user.last_name[:1]).upper()
    return user.email[:2].upper()


def user_response(user: User) -> UserAnswer:
    return UserAnswer(**user_fields(user))


def user_fields(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "email": user.email,
        "last_activity": user.last_activity.isoformat(),
        "custom_hotkeys": user.custom_hotkeys or {},
        "avatar": None,
        "initials": initials(user),
        "phone": user.phone,
        "active_organization": user.active_organization_id,
        "allow_newsletters": user.allow_newsletters,
        "date_joined": user.date_joined.isoformat(),
    }


def whoami_response(
    user: User, organization: Organization | None, role: Role | None
) -> WhoamiAnswer:
    return WhoamiAnswer(
        **user_fields(user),
        active_organization_meta=(
            OrganizationMeta(title=organization.title, email="") if organization else None
        ),
        role=role,
        permissions=[],
    )
