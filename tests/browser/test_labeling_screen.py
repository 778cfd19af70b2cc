"""The labeling screen in a real browser: predictions as pre-labels, the editor's own
Ctrl+Enter, drafts kept when the annotator leaves, skip, the empty stream, and updating
an annotation of a chosen task."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from .editor_helpers import poll, region_count, word_center

NER = """<View>
  <Labels name="label" toName="text">
    <Label value="PER" background="#dc2626"/>
    <Label value="ORG" background="#ea580c"/>
  </Labels>
  <Text name="text" value="$text" granularity="word"/>
</View>"""
PREDICTED = "Barack Obama visited Paris."
PLAIN = "Angela Merkel met Apple engineers."


def test_prelabels_shortcut_drafts_skip_and_update(
    page: Page,
    api: httpx.Client,
    make_project: Callable[..., dict[str, Any]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    prediction = {
        "model_version": "ner-v1",
        "score": 0.87,
        "result": [
            {
                "id": "pred-1",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {"start": 0, "end": 6, "text": "Barack", "labels": ["PER"]},
            }
        ],
    }
    project_id = make_project(
        "Labeling screen",
        NER,
        [{"data": {"text": PREDICTED}, "predictions": [prediction]}, {"data": {"text": PLAIN}}],
    )["id"]
    tasks = api.get("/api/tasks", params={"project": project_id}).json()["tasks"]
    ids = {task["data"]["text"]: task["id"] for task in tasks}
    predicted_id, plain_id = ids[PREDICTED], ids[PLAIN]

    # The stream opens the first task with the prediction already drawn as a region.
    page.goto(f"/projects/{project_id}/label")
    expect(page.get_by_role("heading", name=f"Task {predicted_id}")).to_be_visible()
    editor = page.get_by_role("region", name="Labeling editor")
    expect(region_count(editor)).to_have_text(re.compile(r"^\s*1$"))
    # Ctrl+Enter is the editor's own submit hotkey.
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("heading", name=f"Task {plain_id}")).to_be_visible()
    [submitted] = api.get(f"/api/tasks/{predicted_id}").json()["annotations"]
    assert [region["value"]["labels"] for region in submitted["result"]] == [["PER"]]
    assert submitted["result"][0]["value"]["text"] == "Barack"

    # A region drawn and left behind becomes a draft when the annotator leaves.
    editor = page.get_by_role("region", name="Labeling editor")
    editor.get_by_text("ORG", exact=True).first.click()
    page.mouse.dblclick(*word_center(editor, "Apple"))
    expect(region_count(editor)).to_have_text(re.compile(r"^\s*1$"))
    page.get_by_role("link", name="Back to data manager").click()
    drafts = poll(
        lambda: api.get(f"/api/tasks/{plain_id}/drafts").json(),
        lambda found: bool(found) and bool(found[0]["result"]),
    )
    assert drafts[0]["result"][0]["value"]["text"] == "Apple"

    # Back in the stream, the draft is where the annotator left it; then they skip.
    page.get_by_role("button", name="Label all tasks").click()
    expect(page.get_by_role("heading", name=f"Task {plain_id}")).to_be_visible()
    editor = page.get_by_role("region", name="Labeling editor")
    expect(region_count(editor)).to_have_text(re.compile(r"^\s*1$"))
    editor.get_by_role("button", name="Skip").click()
    expect(page.get_by_role("heading", name="No more tasks to label")).to_be_visible()
    skipped = api.get(f"/api/tasks/{plain_id}").json()
    assert [a["was_cancelled"] for a in skipped["annotations"]] == [True]
    assert skipped["drafts"] == []

    # A chosen task opens with its annotation; changes left unsaved come back as a draft.
    page.goto(f"/projects/{project_id}/label?task={predicted_id}")
    editor = page.get_by_role("region", name="Labeling editor")
    # The editor labels its save button "submit" for screen readers, whatever its text.
    save = editor.get_by_role("button", name="submit", exact=True)
    expect(save).to_have_text("Update")
    editor.get_by_text("ORG", exact=True).first.click()
    page.mouse.dblclick(*word_center(editor, "Paris"))
    expect(region_count(editor)).to_have_text(re.compile(r"^\s*2$"))
    page.get_by_role("link", name="Back to data manager").click()
    drafts = poll(
        lambda: api.get(f"/api/tasks/{predicted_id}/drafts").json(),
        lambda found: bool(found) and len(found[0]["result"]) == 2,
    )
    assert drafts[0]["annotation"] == submitted["id"]

    page.go_back()
    editor = page.get_by_role("region", name="Labeling editor")
    expect(region_count(editor)).to_have_text(re.compile(r"^\s*2$"))
    screenshot(page, "labeling-update")
    save = editor.get_by_role("button", name="submit", exact=True)
    expect(save).to_have_text("Update")
    save.click()
    expect(page.get_by_role("status").filter(has_text="updated")).to_be_visible()
    [updated] = api.get(f"/api/tasks/{predicted_id}").json()["annotations"]
    assert updated["id"] == submitted["id"]
    assert sorted(region["value"]["text"] for region in updated["result"]) == ["Barack", "Paris"]
    assert json.dumps(updated["result"]).count('"ORG"') == 1
    assert api.get(f"/api/tasks/{predicted_id}/drafts").json() == []
