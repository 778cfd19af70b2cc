"""Following an organization's invite link in Chromium: the sign-up page creates the
account in that organization, although open sign-up is off."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import Page, expect


def test_an_invite_link_signs_a_stranger_up_into_the_organization(
    anonymous_page: Page, api: httpx.Client
) -> None:
    invite = api.get("/api/invite")
    assert invite.status_code == 200, invite.text
    link = invite.json()["invite_url"]
    email = f"invited-{uuid.uuid4().hex[:8]}@example.com"

    page = anonymous_page
    page.goto(link)
    page.wait_for_url("**/sign-up?token=*")
    expect(page.get_by_role("heading", name="Join your team")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("invited-password-123")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/projects")

    members = api.get("/api/users").json()
    assert email in [user["email"] for user in members]
