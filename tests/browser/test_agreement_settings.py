"""Agreement settings in Chromium: the project's threshold and box-match IoU set in the
general settings; a value out of range is refused and nothing is stored."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page, expect

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""


def test_the_agreement_threshold_is_set_in_the_general_settings(
    page: Page, api: Any, make_project: Any, screenshot: Any
) -> None:
    project = make_project("Agreement settings", CONFIG, [])
    page.goto(f"/projects/{project['id']}/settings/general")
    form = page.get_by_role("form", name="General settings")
    threshold = form.get_by_label("Agreement threshold")
    expect(threshold).to_have_value("")

    # Out of 0-1: the browser's own check stops the form before anything is sent.
    threshold.fill("1.5")
    form.get_by_role("button", name="Save").click()
    assert threshold.evaluate("input => input.validity.rangeOverflow") is True
    assert api.get(f"/api/projects/{project['id']}").json()["agreement_threshold"] is None

    threshold.fill("0.6")
    form.get_by_label("Box match IoU").fill("0.7")
    save = form.get_by_role("button", name="Save")
    save.click()
    expect(page.get_by_text("Project settings saved")).to_be_visible()
    stored = api.get(f"/api/projects/{project['id']}").json()
    assert (stored["agreement_threshold"], stored["agreement_iou_threshold"]) == (0.6, 0.7)
    screenshot(page, "settings-agreement")

    # Emptied, the threshold is gone again: no task is routed to review.
    threshold.fill("")
    expect(save).to_be_enabled()
    save.click()
    deadline = time.monotonic() + 20
    while api.get(f"/api/projects/{project['id']}").json()["agreement_threshold"] is not None:
        assert time.monotonic() < deadline, "the emptied threshold was not saved"
        time.sleep(0.1)
    expect(save).to_be_disabled()
