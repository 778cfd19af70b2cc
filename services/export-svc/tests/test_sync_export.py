"""`GET /api/projects/{id}/export`: every format on a real project, filters, and bad input."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from .conftest import Cast, Seeded, Seeder, Stack, span

FILENAME = re.compile(
    r'attachment; filename="project-(\d+)-at-\d{4}-\d\d-\d\d-\d\d-\d\d-[0-9a-f]{8}\.(\w+)"'
)


def export(stack: Stack, cast: Cast, project_id: int, **params: Any) -> Any:
    return stack.export.get(
        f"/api/projects/{project_id}/export", params=params, headers=cast.owner.headers
    )


def test_json_export_is_label_studio_tasks_with_their_annotations(
    stack: Stack, cast: Cast, ner_project: Seeded
) -> None:
    answer = export(stack, cast, ner_project.project_id, exportType="JSON")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert "content-length" not in answer.headers  # streamed, not buffered
    disposition = FILENAME.fullmatch(answer.headers["content-disposition"])
    assert disposition and disposition.groups() == (str(ner_project.project_id), "json")
    tasks = answer.json()
    # download_all_tasks defaults to false: annotated tasks only, skipped ones included.
    assert [task["id"] for task in tasks] == ner_project.task_ids[:2]
    first = tasks[0]
    assert first["data"] == {"text": "Alice works at Acme in Paris"}
    assert first["project"] == ner_project.project_id
    assert first["inner_id"] == 1 and first["total_annotations"] == 2
    assert first["drafts"] == [] and first["predictions"] == []
    annotations = first["annotations"]
    assert [a["id"] for a in annotations] == ner_project.annotation_ids[ner_project.task_ids[0]]
    assert [a["completed_by"] for a in annotations] == [cast.owner.user_id, cast.annotator.user_id]
    assert annotations[0]["result"][0]["value"]["labels"] == ["PER"]
    assert annotations[0]["result_count"] == 2 and annotations[0]["was_cancelled"] is False
    assert annotations[0]["task"] == first["id"] and annotations[0]["created_at"]
    skipped = tasks[1]
    assert skipped["cancelled_annotations"] == 1 and skipped["total_annotations"] == 0


def test_all_tasks_and_task_ids(stack: Stack, cast: Cast, ner_project: Seeded) -> None:
    everything = export(stack, cast, ner_project.project_id, download_all_tasks="true").json()
    assert [task["id"] for task in everything] == ner_project.task_ids
    assert everything[2]["annotations"] == []
    last_two = ner_project.task_ids[1:]
    picked = stack.export.get(
        f"/api/projects/{ner_project.project_id}/export?download_all_tasks=true"
        f"&ids[]={last_two[0]}&ids[]={last_two[1]}",
        headers=cast.owner.headers,
    ).json()
    assert [task["id"] for task in picked] == last_two
    # The SDK's `ids=1,2` style, combined with only-annotated tasks.
    annotated_of_them = export(
        stack, cast, ner_project.project_id, ids=f"{last_two[0]},{last_two[1]}"
    ).json()
    assert [task["id"] for task in annotated_of_them] == [last_two[0]]


def test_an_empty_project_exports_an_empty_array(stack: Stack, cast: Cast, seeder: Seeder) -> None:
    project_id = seeder.project()
    answer = export(stack, cast, project_id, download_all_tasks="true")
    assert answer.status_code == 200 and answer.json() == []


def test_predictions_are_exported_as_ids(stack: Stack, cast: Cast, seeder: Seeder) -> None:
    project_id = seeder.project()
    seeder.tasks(
        project_id,
        [{"data": {"text": "Dana"}, "predictions": [{"result": [span(0, 4, "Dana", "PER")]}]}],
    )
    (task,) = export(stack, cast, project_id, download_all_tasks="true").json()
    assert task["total_predictions"] == 1
    assert len(task["predictions"]) == 1 and isinstance(task["predictions"][0], int)


def test_json_min_is_one_record_per_submitted_annotation_newest_first(
    stack: Stack, cast: Cast, ner_project: Seeded
) -> None:
    answer = export(
        stack, cast, ner_project.project_id, exportType="JSON_MIN", download_all_tasks="true"
    )
    assert answer.status_code == 200
    records = answer.json()
    first_task, _, untouched = ner_project.task_ids
    owner_annotation, annotator_annotation = ner_project.annotation_ids[first_task]
    # The skipped-only task gives no record; the untouched one gives one bare record.
    assert [(r["id"], r["annotation_id"]) for r in records] == [
        (first_task, annotator_annotation),
        (first_task, owner_annotation),
        (untouched, None),
    ]
    assert records[0]["label"] == [{"start": 23, "end": 28, "text": "Paris", "labels": ["LOC"]}]
    assert records[0]["annotator"] == cast.annotator.user_id
    assert records[1]["text"] == "Alice works at Acme in Paris"
    assert records[2] == {
        "text": "Carol",
        "id": untouched,
        "annotator": None,
        "annotation_id": None,
        "created_at": None,
        "updated_at": None,
        "lead_time": None,
    }


def test_csv_and_tsv_have_sorted_columns_and_a_row_per_annotation(
    stack: Stack, cast: Cast, ner_project: Seeded
) -> None:
    for name, delimiter, extension in (("CSV", ",", "csv"), ("TSV", "\t", "tsv")):
        answer = export(stack, cast, ner_project.project_id, exportType=name)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-disposition"].endswith(f'.{extension}"')
        rows = list(csv.DictReader(io.StringIO(answer.text), delimiter=delimiter))
        header = answer.text.splitlines()[0].replace('"', "").split(delimiter)
        assert header == sorted(header) == [
            "annotation_id", "annotator", "created_at", "id", "label", "lead_time", "text", "updated_at",
        ]  # fmt: skip
        assert len(rows) == 2
        labels = json.loads(rows[1]["label"])
        assert [region["labels"] for region in labels] == [["PER"], ["ORG"]]
        assert rows[0]["annotator"] == str(cast.annotator.user_id)
    every_task = export(
        stack, cast, ner_project.project_id, exportType="CSV", download_all_tasks="1"
    )
    untouched = list(csv.DictReader(io.StringIO(every_task.text)))[-1]
    assert untouched["text"] == "Carol" and untouched["annotator"] == untouched["label"] == ""


def test_conll2003_tags_tokens_in_bio(stack: Stack, cast: Cast, ner_project: Seeded) -> None:
    answer = export(stack, cast, ner_project.project_id, exportType="CONLL2003")
    assert answer.status_code == 200
    blocks = answer.text.split("\n\n")
    assert blocks[0].splitlines()[0] == "-DOCSTART- -X- O"
    newest = [line.split()[-1] for line in blocks[0].splitlines()[1:]]
    oldest = [line.split()[-1] for line in blocks[1].splitlines()]
    assert newest == ["O", "O", "O", "O", "O", "B-LOC"]
    assert oldest == ["B-PER", "O", "O", "B-ORG", "O", "O"]


def test_export_type_alias_and_default(stack: Stack, cast: Cast, ner_project: Seeded) -> None:
    default = export(stack, cast, ner_project.project_id)
    assert default.status_code == 200 and isinstance(default.json(), list)
    alias = export(stack, cast, ner_project.project_id, export_type="JSON_MIN")
    assert alias.status_code == 200 and "annotation_id" in alias.json()[0]


def test_bad_input_is_a_400_naming_the_field(stack: Stack, cast: Cast, ner_project: Seeded) -> None:
    project = ner_project.project_id
    cases = [
        ({"exportType": "PDF"}, "exportType"),
        ({"export_type": "PDF"}, "export_type"),
        ({"exportType": "COCO"}, "exportType"),  # no image in this project's config
        ({"download_all_tasks": "maybe"}, "download_all_tasks"),
        ({"download_resources": "perhaps"}, "download_resources"),
        ({"ids": "1,x"}, "ids"),
    ]
    for params, field in cases:
        answer = export(stack, cast, project, **params)
        assert answer.status_code == 400, (params, answer.text)
        assert field in answer.json()["validation_errors"], answer.json()


def test_unknown_project_is_404(stack: Stack, cast: Cast) -> None:
    assert export(stack, cast, 987_654_321).status_code == 404
