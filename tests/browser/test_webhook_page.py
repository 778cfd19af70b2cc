"""The webhook page in Chromium: add a webhook, see its secret once, edit it, send a test
to a real receiver, watch the delivery in the log, redeliver it, and switch it off."""

from __future__ import annotations

from typing import Any

from labelops_testing.receivers import webhook_receiver
from playwright.sync_api import Page, expect
from project_svc.webhooks import signing

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""


def test_add_edit_test_send_and_read_deliveries(
    page: Page, api: Any, make_project: Any, screenshot: Any
) -> None:
    project = make_project("Webhooks page", CONFIG, [])
    with webhook_receiver(statuses=[500]) as receiver:
        page.goto(f"/projects/{project['id']}/settings/webhooks")
        page.get_by_role("button", name="Add webhook").click()
        form = page.get_by_role("form", name="Add webhook")
        # A bad URL is refused by the server, naming the field; nothing is created.
        form.get_by_label("Payload URL").fill("ftp://example.com/x")
        form.get_by_role("button", name="Add webhook").click()
        expect(form.get_by_text("Enter a valid URL")).to_be_visible()
        assert api.get("/api/webhooks", params={"project": project["id"]}).json() == []

        form.get_by_label("Payload URL").fill(receiver.url)
        form.get_by_label("Headers").fill("Authorization: Bearer receiver-token")
        form.get_by_role("button", name="Add webhook").click()
        secret_box = page.get_by_label("The new signing secret")
        expect(secret_box).to_be_visible()
        secret = secret_box.inner_text().strip()
        assert len(secret) >= 32
        page.get_by_role("button", name="Done").click()

        table = page.get_by_role("table", name="Webhooks")
        expect(table).to_contain_text(receiver.url)
        expect(table).to_contain_text("All events")
        [stored] = api.get("/api/webhooks", params={"project": project["id"]}).json()
        assert stored["headers"] == {"Authorization": "********"}

        # Edit: only annotation events; the stored header value stays as it was.
        page.get_by_role("button", name=f"Edit {receiver.url}").click()
        edit = page.get_by_role("form", name="Edit webhook")
        expect(edit.get_by_label("Headers")).to_have_value("Authorization: ********")
        edit.get_by_label("Send for every event").uncheck()
        edit.get_by_label("Annotation created").check()
        edit.get_by_role("button", name="Save").click()
        expect(table).to_contain_text("Annotation created")
        stored = api.get(f"/api/webhooks/{stored['id']}").json()
        assert stored["actions"] == ["ANNOTATION_CREATED"]
        assert stored["send_for_all_actions"] is False

        # Test-send: the receiver answers 500 first, so the delivery is retried, then delivered.
        page.get_by_role("button", name=f"Send a test to {receiver.url}").click()
        log = page.get_by_role("table", name="Deliveries")
        expect(log).to_contain_text("WEBHOOK_TEST")
        expect(log).to_contain_text("Failed")
        expect(log).to_contain_text("HTTP 500")
        requests = receiver.wait_for(1, timeout=30)
        assert requests[0].headers["authorization"] == "Bearer receiver-token"
        assert signing.verify(
            secret, requests[0].body, requests[0].headers["x-labelops-signature-256"]
        )
        screenshot(page, "webhook-deliveries")

        # A test call is tried once; redelivering it reaches the (now healthy) receiver.
        page.get_by_role("button", name="Redeliver").first.click()
        expect(log.get_by_text("Delivered")).to_be_visible()
        expect(log).to_contain_text("ms")
        requests = receiver.wait_for(2, timeout=30)
        assert requests[1].json() == {"action": "WEBHOOK_TEST"}
        assert requests[1].answered == 200
        page.get_by_role("button", name="Close").click()

        # A controlled checkbox: it turns off once the server has saved the change.
        page.get_by_label(f"Active: {receiver.url}").click()
        expect(page.get_by_label(f"Active: {receiver.url}")).not_to_be_checked()
        assert api.get(f"/api/webhooks/{stored['id']}").json()["is_active"] is False
