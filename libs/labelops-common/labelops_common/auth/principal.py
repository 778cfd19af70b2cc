"""Who is calling: the identity every service's handlers and policies work with."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Organization roles, most powerful first."""

    OWNER = "owner"
    ADMINISTRATOR = "administrator"
    MANAGER = "manager"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"


@dataclass(frozen=True)
class Principal:
    user_id: int
    organization_id: int
    role: Role
    email: str = ""
    username: str = ""
