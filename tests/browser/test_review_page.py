"""The review page in a real browser: a reviewer accepts one annotation, rejects another
with a reason (the annotator's label stream then offers that task again, showing the
reason, and the annotator redoes it), and fixes and accepts a third in the editor."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from .conftest import sign_in_through_ui
from .editor_helpers import poll

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""


def _choice(value: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"r-{value}",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]


def _choices(annotation: dict[str, Any]) -> list[str]:
    return [choice for region in annotation["result"] for choice in region["value"]["choices"]]


def test_accept_reject_with_reason_and_fix_on_the_review_page(
    page: Page,
    anonymous_page: Page,
    api: httpx.Client,
    web_app: Any,
    make_project: Callable[..., dict[str, Any]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    email = f"annotator-{uuid.uuid4().hex[:8]}@example.com"
    password = "annotator-password-1"
    created = api.post(
        "/api/users", json={"email": email, "password": password, "role": "annotator"}
    )
    assert created.status_code == 201, created.text
    annotator_id = created.json()["id"]
    texts = ["I love it", "I hate it", "Awful service"]
    # Admitted before task-svc first reads the project (it caches who may see it).
    project_id = make_project("Reviews", CONFIG, [])["id"]
    admitted = api.post(f"/api/projects/{project_id}/members/", json={"user": annotator_id})
    assert admitted.status_code == 201, admitted.text
    imported = api.post(
        f"/api/projects/{project_id}/import", json=[{"text": text} for text in texts]
    )
    assert imported.status_code == 201, imported.text
    tasks = api.get("/api/tasks", params={"project": project_id}).json()["tasks"]
    task_ids = {task["data"]["text"]: task["id"] for task in tasks}

    # The annotator labels all three "Positive" (through their own session).
    annotations: dict[str, int] = {}
    with httpx.Client(base_url=web_app.base_url, timeout=30) as annotator:
        signed_in = annotator.post("/user/login", json={"email": email, "password": password})
        assert signed_in.status_code == 200, signed_in.text
        csrf = {"X-CSRFToken": annotator.cookies.get("csrftoken") or ""}
        for text in texts:
            made = annotator.post(
                f"/api/tasks/{task_ids[text]}/annotations",
                json={"result": _choice("Positive")},
                headers=csrf,
            )
            assert made.status_code == 201, made.text
            annotations[text] = made.json()["id"]

    # Accept the first (oldest first).
    page.goto(f"/projects/{project_id}")
    page.get_by_role("link", name="Review", exact=True).click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(
        f"Review annotation {annotations[texts[0]]} of task {task_ids[texts[0]]}"
    )
    editor = page.get_by_role("region", name="Labeling editor")
    expect(editor.get_by_text("I love it").first).to_be_visible()
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="accepted")).to_be_visible()
    first = api.get(f"/api/annotations/{annotations[texts[0]]}").json()
    assert first["review_status"] == "accepted"

    # Reject the second with a reason; an empty reason cannot be sent.
    expect(heading).to_have_text(
        f"Review annotation {annotations[texts[1]]} of task {task_ids[texts[1]]}"
    )
    page.get_by_role("button", name="Reject", exact=True).click()
    send = page.get_by_role("button", name="Reject with this reason")
    expect(send).to_be_disabled()
    page.get_by_label("Reason for rejecting").fill("Hate is negative.")
    send.click()
    expect(page.get_by_role("status").filter(has_text="rejected")).to_be_visible()
    second = api.get(f"/api/annotations/{annotations[texts[1]]}").json()
    assert (second["review_status"], second["review_comment"]) == ("rejected", "Hate is negative.")

    # Fix the third in the editor, then fix and accept.
    expect(heading).to_have_text(
        f"Review annotation {annotations[texts[2]]} of task {task_ids[texts[2]]}"
    )
    editor = page.get_by_role("region", name="Labeling editor")
    editor.locator("label", has_text="Negative").click()
    screenshot(page, "review-fix")
    page.get_by_role("button", name="Fix & accept").click()
    expect(page.get_by_role("heading", name="No more annotations to review")).to_be_visible()
    third = api.get(f"/api/annotations/{annotations[texts[2]]}").json()
    assert third["review_status"] == "fixed_and_accepted"
    assert _choices(third) == ["Negative"]
    [fix] = api.get("/api/annotation-reviews/", params={"annotation": third["id"]}).json()
    assert _choices({"result": fix["previous_annotation_history_result"]}) == ["Positive"]

    # The annotator's label stream offers the rejected task again, with the reason.
    annotator_page = anonymous_page
    sign_in_through_ui(annotator_page, email, password)
    annotator_page.goto(f"/projects/{project_id}/label")
    expect(annotator_page.get_by_role("heading", name=f"Task {task_ids[texts[1]]}")).to_be_visible()
    expect(annotator_page.get_by_role("alert")).to_contain_text("Hate is negative.")
    screenshot(annotator_page, "review-rejected-labeling")
    editor = annotator_page.get_by_role("region", name="Labeling editor")
    editor.locator("label", has_text="Negative").click()
    save = editor.get_by_role("button", name="submit", exact=True)
    expect(save).to_have_text("Update")
    save.click()
    expect(annotator_page.get_by_role("heading", name="No more tasks to label")).to_be_visible()
    redone = poll(
        lambda: api.get(f"/api/annotations/{annotations[texts[1]]}").json(),
        lambda found: found["review_status"] is None,
    )
    assert _choices(redone) == ["Negative"]
    assert api.get(f"/api/tasks/{task_ids[texts[1]]}").json()["is_labeled"] is True
