"""The quick-start workflow in a real browser: create a project from a template, import,
label with real clicks and drags, see the counts change, filter, export and read the file."""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from .editor_helpers import region_count, word_center

NER_TEXT = "Barack Obama visited Paris with Google staff."
OTHER_TEXT = "Angela Merkel met engineers in Berlin."


def gradient_png(width: int, height: int) -> bytes:
    """A small real PNG (an RGB gradient), so the image task needs nothing from outside."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def create_project_from_template(page: Page, title: str, template: str) -> int:
    """The create page: name, then a template from the gallery, then save."""
    page.goto("/projects/new")
    page.get_by_label("Project name").fill(title)
    page.get_by_role("button", name="Next: labeling setup").click()
    page.get_by_role("button", name=template).click()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/projects/\d+/import$"))
    match = re.search(r"/projects/(\d+)/", page.url)
    assert match is not None
    return int(match.group(1))


def row(page: Page, task_id: int) -> Locator:
    return page.locator(f"tr[data-task-id='{task_id}']")


def download_json(page: Page, link_name: str) -> list[dict[str, Any]]:
    with page.expect_download() as started:
        page.get_by_role("link", name=link_name).click()
    download = started.value
    assert download.suggested_filename.endswith(".json")
    data: list[dict[str, Any]] = json.loads(Path(download.path()).read_text())
    return data


def test_ner_project_from_template_to_export(
    page: Page, api: httpx.Client, screenshot: Callable[[Page, str], Path]
) -> None:
    project_id = create_project_from_template(page, "Browser NER", "Named entity recognition")

    # Import: paste two tasks as JSON.
    page.get_by_role("tab", name="Paste data").click()
    page.get_by_label("Tasks to import").fill(
        json.dumps([{"text": NER_TEXT}, {"text": OTHER_TEXT}])
    )
    screenshot(page, "import")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status", name="Import result")).to_contain_text("Imported 2 tasks")

    # The data manager lists them, nothing annotated yet.
    page.get_by_role("link", name="Go to the data manager").click()
    totals = page.get_by_role("status", name="Task totals")
    expect(totals).to_contain_text("2 tasks · 0 annotations")
    tasks = api.get("/api/tasks", params={"project": project_id}).json()["tasks"]
    first_id = next(t["id"] for t in tasks if t["data"]["text"] == NER_TEXT)
    expect(row(page, first_id).locator("td[data-column='total_annotations']")).to_have_text("0")

    # Label the first task: choose the label, double-click a word, submit.
    page.get_by_role("button", name="Label all tasks").click()
    expect(page.get_by_role("heading", name=f"Task {first_id}")).to_be_visible()
    editor = page.get_by_role("region", name="Labeling editor")
    editor.get_by_text("Person", exact=True).first.click()
    page.mouse.dblclick(*word_center(editor, "Obama"))
    expect(region_count(editor)).to_have_text(re.compile(r"^\s*1$"))
    screenshot(page, "labeling")
    editor.get_by_role("button", name="Submit").click()
    # The stream moves on to the other task.
    expect(page.get_by_role("heading", name=re.compile(r"^Task \d+$"))).not_to_have_text(
        f"Task {first_id}"
    )

    stored = api.get(f"/api/tasks/{first_id}").json()["annotations"]
    assert len(stored) == 1
    [region] = stored[0]["result"]
    assert region["value"]["labels"] == ["Person"]
    assert region["value"]["text"] == "Obama"

    # The counts change in the data manager.
    page.get_by_role("link", name="Back to data manager").click()
    expect(totals).to_contain_text("2 tasks · 1 annotation")
    expect(row(page, first_id).locator("td[data-column='total_annotations']")).to_have_text("1")

    # Filter: data.text contains "Merkel" leaves the other task only.
    page.get_by_role("button", name="Filters").click()
    page.get_by_role("button", name="Add filter").click()
    page.get_by_label("Filter 1 column").select_option(label="data.text")
    page.get_by_label("Filter 1 operator").select_option(label="contains")
    page.get_by_label("Filter 1 value").fill("Merkel")
    expect(totals).to_contain_text("1 task · 0 annotations")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr").first).to_contain_text(OTHER_TEXT)
    screenshot(page, "data-manager")

    # Export JSON: the downloaded file holds the annotation made above.
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Export").click()
    page.get_by_role("radio", name="JSON", exact=True).check()
    exported = download_json(page, "Download now")
    assert [task["id"] for task in exported] == [first_id]
    [annotation] = exported[0]["annotations"]
    assert annotation["result"][0]["value"]["text"] == "Obama"
    assert annotation["result"][0]["value"]["labels"] == ["Person"]
    screenshot(page, "export")


def test_image_bounding_box_from_uploaded_file(
    page: Page, api: httpx.Client, tmp_path: Path, screenshot: Callable[[Page, str], Path]
) -> None:
    project_id = create_project_from_template(
        page, "Browser boxes", "Object detection with bounding boxes"
    )

    # Import: upload an image file; it becomes one task served by the app itself.
    image = tmp_path / "street.png"
    image.write_bytes(gradient_png(400, 300))
    page.get_by_label("Files to import").set_input_files(str(image))
    expect(page.get_by_role("list", name="Chosen files")).to_contain_text("street.png")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status", name="Import result")).to_contain_text("Imported 1 task")
    [task] = api.get("/api/tasks", params={"project": project_id}).json()["tasks"]
    assert task["data"]["image"].startswith(f"/data/upload/{project_id}/")

    # Label: choose "Car", then press, move and release the mouse over the image.
    page.goto(f"/projects/{project_id}/label")
    editor = page.get_by_role("region", name="Labeling editor")
    editor.get_by_text("Car", exact=True).first.click()
    canvas = editor.locator("canvas").first
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 200
    start_x, start_y = box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    page.mouse.move(start_x + 60, start_y + 40, steps=6)
    page.mouse.move(start_x + 160, start_y + 120, steps=6)
    page.mouse.up()
    expect(region_count(editor)).to_have_text(re.compile(r"^\s*1$"))
    screenshot(page, "labeling-image")
    editor.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="No more tasks to label")).to_be_visible()
    screenshot(page, "labeling-empty")

    [annotation] = api.get(f"/api/tasks/{task['id']}").json()["annotations"]
    [region] = annotation["result"]
    assert region["type"] == "rectanglelabels"
    assert region["value"]["rectanglelabels"] == ["Car"]
    # 160 x 120 screen pixels over a 400 x 300 image shown at natural size: about 40 %.
    assert 30 < region["value"]["width"] < 50
    assert 30 < region["value"]["height"] < 50

    # The data manager shows the image and the new count.
    page.get_by_role("link", name="Go to the data manager").click()
    expect(page.get_by_role("status", name="Task totals")).to_contain_text("1 task · 1 annotation")
    thumbnail = row(page, task["id"]).get_by_role("img")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.naturalWidth") == 400

    page.get_by_role("navigation", name="Project").get_by_role("link", name="Export").click()
    exported = download_json(page, "Download now")
    assert exported[0]["annotations"][0]["result"][0]["value"]["rectanglelabels"] == ["Car"]
