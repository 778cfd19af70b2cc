"""The members page changes a member's role (Chromium, the built app, a real server)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Page, expect


def test_an_owner_changes_a_members_role_on_the_members_page(
    page: Page, api: httpx.Client, make_project: Callable[..., dict[str, Any]]
) -> None:
    project = make_project("Roles", "<View><Text name='t' value='$t'/></View>", [])
    email = f"member-{uuid.uuid4().hex[:8]}@example.com"
    created = api.post("/api/users", json={"email": email, "role": "annotator"})
    assert created.status_code == 201, created.text
    member_id = created.json()["id"]
    organization = project["organization"]

    page.goto(f"/projects/{project['id']}/settings/members")
    role = page.get_by_label(f"Role of {email}")
    expect(role).to_have_value("annotator")
    role.select_option("manager")
    expect(page.get_by_text(f"{email} is now Manager")).to_be_visible()

    stored = api.get(f"/api/organizations/{organization}/memberships/{member_id}/")
    assert stored.status_code == 200, stored.text
    assert stored.json()["role"] == "manager"
    # The owner's own row offers no role change.
    expect(page.get_by_label("Role of admin@example.com")).to_have_count(0)
