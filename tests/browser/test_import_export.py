"""Import and export pages in a real browser: the server's errors shown as it words them,
a large import followed as a job, and snapshots from creation to download and deletion."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

NER = """<View>
  <Labels name="label" toName="text">
    <Label value="PER"/>
    <Label value="ORG"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""
#: Above task-svc's 8 MiB limit for answering an import in the request itself.
LARGE_IMPORT_BYTES = 9 * 1024 * 1024


def test_import_shows_item_errors_and_refused_urls(
    page: Page, api: httpx.Client, make_project: Callable[..., dict[str, Any]]
) -> None:
    project_id = make_project("Import errors", NER, [])["id"]
    page.goto(f"/projects/{project_id}/import")

    page.get_by_role("tab", name="Paste data").click()
    page.get_by_label("Tasks to import").fill('[{"text": "fine"}, 42]')
    page.get_by_role("button", name="Import", exact=True).click()
    failure = page.get_by_role("alert").filter(has_text="The import failed")
    expect(failure).to_contain_text("Error at item 1")
    assert api.get("/api/tasks", params={"project": project_id}).json()["total"] == 0

    page.get_by_role("tab", name="From URL").click()
    page.get_by_role("textbox", name="URL").fill("http://169.254.169.254/latest/meta-data")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(failure).to_contain_text("url: Importing from a URL is not supported")

    # A file dropped on the drop zone is queued like a chosen one.
    page.get_by_role("tab", name="Upload files").click()
    page.locator(".import-drop").evaluate(
        """zone => {
            const files = new DataTransfer();
            files.items.add(new File(['{"text": "dropped"}\\n'], "dropped.jsonl"));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: files, bubbles: true }));
        }"""
    )
    expect(page.get_by_role("list", name="Chosen files")).to_contain_text("dropped.jsonl")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status", name="Import result")).to_contain_text("Imported 1 task")

    page.get_by_role("tab", name="Paste data").click()
    page.get_by_label("Tasks to import").fill("text\nfirst row\nsecond row\n")
    page.get_by_label("Format").select_option("CSV")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status", name="Import result")).to_contain_text("Imported 2 tasks")
    texts = sorted(
        t["data"]["text"]
        for t in api.get("/api/tasks", params={"project": project_id}).json()["tasks"]
    )
    assert texts == ["dropped", "first row", "second row"]


def test_large_file_import_runs_as_a_followed_job(
    page: Page,
    api: httpx.Client,
    make_project: Callable[..., dict[str, Any]],
    tmp_path: Path,
    screenshot: Callable[[Page, str], Path],
) -> None:
    project_id = make_project("Large import", NER, [])["id"]
    filler = "lorem ipsum dolor sit amet " * 80
    count = LARGE_IMPORT_BYTES // (len(filler) + 40) + 1
    big = tmp_path / "large.json"
    big.write_text(json.dumps([{"text": f"task {n} {filler}"} for n in range(count)]))
    assert big.stat().st_size > 8 * 1024 * 1024

    page.goto(f"/projects/{project_id}/import")
    page.get_by_label("Files to import").set_input_files(str(big))
    page.get_by_role("button", name="Import", exact=True).click()
    # The request is answered with a job id; the page follows the job to its end.
    result = page.get_by_role("status", name="Import result")
    expect(result).to_contain_text(f"Imported {count:,} tasks", timeout=60_000)
    expect(result).to_contain_text("ran in the background as import job")
    screenshot(page, "import-large")
    assert (
        api.get("/api/tasks", params={"project": project_id, "page_size": 1}).json()["total"]
        == count
    )


def test_export_formats_and_snapshot_lifecycle(
    page: Page,
    api: httpx.Client,
    make_project: Callable[..., dict[str, Any]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    annotation = {
        "result": [
            {
                "id": "r1",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
            }
        ]
    }
    project_id = make_project(
        "Snapshots",
        NER,
        [
            {"data": {"text": "Alice works at Acme."}, "annotations": [annotation]},
            {"data": {"text": "Nobody."}},
        ],
    )["id"]
    page.goto(f"/projects/{project_id}/export")

    # Only formats that fit a text NER config can be chosen; image formats are greyed.
    expect(page.get_by_role("radio", name=re.compile(r"^CONLL2003\b"))).to_be_enabled()
    expect(page.get_by_role("radio", name=re.compile(r"^COCO(?! with)\b"))).to_be_disabled()
    expect(page.get_by_text("Not available").first).to_be_visible()

    page.get_by_label("Snapshot title").fill("Nightly")
    page.get_by_role("button", name="Create snapshot").click()
    snapshots = page.get_by_role("table", name="Snapshots")
    expect(snapshots).to_contain_text("Nightly")
    expect(snapshots.get_by_text("completed")).to_be_visible()
    [made] = api.get(f"/api/projects/{project_id}/exports").json()
    assert made["title"] == "Nightly" and made["status"] == "completed"
    screenshot(page, "export-snapshots")

    with page.expect_download() as started:
        snapshots.get_by_role("link", name=f"Download snapshot {made['id']} as JSON").click()
    exported = json.loads(Path(started.value.path()).read_text())
    assert [task["data"]["text"] for task in exported] == ["Alice works at Acme."]
    assert exported[0]["annotations"][0]["result"][0]["value"]["labels"] == ["PER"]

    snapshots.get_by_role("button", name=f"Delete snapshot {made['id']}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete snapshot").click()
    expect(page.get_by_role("heading", name="No snapshots yet")).to_be_visible()
    assert api.get(f"/api/projects/{project_id}/exports").json() == []
