"""The Analytics page in Chromium: a project with a few annotations (counted into the
rollups by the single process's event worker) shows the figures the API serves, and the
project's navigation leads there."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page, expect

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""
RESULT = [
    {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


def _series_when_counted(
    api: Any, project_id: int, annotations: int, skipped: int
) -> dict[str, Any]:
    """The API's answer once the event worker has counted the annotations and skips."""
    deadline = time.monotonic() + 30
    while True:
        answer = api.get(f"/api/projects/{project_id}/analytics/")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        counted = (body["totals"]["annotations"], body["totals"]["skipped"])
        if counted == (annotations, skipped) or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_the_analytics_page_shows_the_apis_figures(
    page: Page, api: Any, make_project: Any, screenshot: Any
) -> None:
    project = make_project("Analytics page", CONFIG, [{"text": f"t{n}"} for n in range(3)])
    tasks = api.get("/api/tasks", params={"project": project["id"]}).json()["tasks"]
    for task, lead_time in zip(tasks[:2], (12, 30), strict=True):
        made = api.post(
            f"/api/tasks/{task['id']}/annotations", json={"result": RESULT, "lead_time": lead_time}
        )
        assert made.status_code == 201, made.text
    skipped = api.post(
        f"/api/tasks/{tasks[2]['id']}/annotations", json={"result": [], "was_cancelled": True}
    )
    assert skipped.status_code == 201, skipped.text

    series = _series_when_counted(api, project["id"], annotations=2, skipped=1)
    totals = series["totals"]
    assert (totals["annotations"], totals["skipped"], totals["tasks_completed"]) == (2, 1, 2)
    assert totals["lead_time_mean"] == 21.0
    [person] = api.get(f"/api/projects/{project['id']}/analytics/people/").json()["people"]

    page.goto(f"/projects/{project['id']}/data")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Analytics").click()
    expect(page).to_have_url(
        f"{page.url.split('/projects/')[0]}/projects/{project['id']}/analytics"
    )
    expect(page.get_by_role("heading", name="Analytics")).to_be_visible()
    expect(page.get_by_test_id("total-annotations")).to_contain_text("2")
    expect(page.get_by_test_id("total-skipped")).to_contain_text("1")
    expect(page.get_by_test_id("total-tasks-completed")).to_contain_text("2")
    expect(page.get_by_test_id("total-lead-time")).to_contain_text("21 s")
    expect(page.get_by_test_id("total-agreement")).to_contain_text("—")
    for chart in ("throughput", "lead-time", "review-outcomes", "agreement"):
        expect(page.get_by_test_id(f"chart-{chart}").locator("svg")).to_be_visible()
    # The throughput line has a point per day of the range (the default: 30 days).
    assert len(series["series"]) == 30

    row = page.get_by_role("table", name="People").get_by_test_id(f"person-{person['user']}")
    expect(row).to_contain_text(person["email"])
    expect(row.locator("[data-column=annotations]")).to_have_text(str(person["annotations"]))
    expect(row.locator("[data-column=skipped]")).to_have_text(str(person["skipped"]))
    expect(row.locator("[data-column=tasks_completed]")).to_have_text("2")
    expect(row.locator("[data-column=lead_time_mean]")).to_have_text("21 s")

    # Per hour: the range is re-read, the totals stay the same.
    page.get_by_label("Per").select_option("hour")
    expect(page.get_by_test_id("total-annotations")).to_contain_text("2")
    screenshot(page, "analytics-page")
