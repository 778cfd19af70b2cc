"""The writers on their own: Label Studio's bytes for its own recorded exchange, streaming, storage."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from export_svc.artifacts import LocalArtifactStorage
from export_svc.formats import ExportContext, find_format
from export_svc.formats._base import json_array, records_from_json_array
from export_svc.formats._zipstream import ZipStream
from labelops_common.labelconfig import parse_label_config

CONFIG = parse_label_config(
    '<View><Text name="text" value="$text"/><Labels name="label" toName="text">'
    '<Label value="PER"/></Labels></View>'
)
CONTEXT = ExportContext(project_id=4, parsed=CONFIG.parsed_label_config())


def annotation(
    annotation_id: int, created_at: str, result: list[Any], lead_time: Any
) -> dict[str, Any]:
    return {
        "id": annotation_id,
        "completed_by": 1,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": created_at,
        "updated_at": created_at[:-2] + "9Z",
        "lead_time": lead_time,
    }


#: The task of Label Studio 1.23's recorded `export_json` exchange (fields the converters read).
RECORDED_TASK = {
    "id": 111001,
    "data": {"text": "Alice works at Acme in Paris"},
    "annotations": [
        annotation(
            1301,
            "2026-11-22T10:29:53.065895Z",
            [
                {
                    "from_name": "label",
                    "to_name": "text",
                    "type": "labels",
                    "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
                }
            ],
            2.5,
        ),
        annotation(
            1302,
            "2026-11-22T10:29:53.761835Z",
            [
                {
                    "from_name": "nope",
                    "to_name": "text",
                    "type": "labels",
                    "value": {"labels": ["X"]},
                }
            ],
            None,
        ),
    ],
}


def write(name: str, records: list[dict[str, Any]]) -> bytes:
    export_format = find_format(name)
    assert export_format is not None
    return b"".join(export_format.write(records, CONTEXT))


def test_csv_is_byte_for_byte_label_studio() -> None:
    assert write("CSV", [RECORDED_TASK]).decode() == (
        '"annotation_id","annotator","created_at","id","label","lead_time","text","updated_at"\r\n'
        '1302,"1","2026-11-22T10:29:53.761835Z",111001,"","","Alice works at Acme in Paris",'
        '"2026-11-22T10:29:53.761839Z"\r\n'
        '1301,"1","2026-11-22T10:29:53.065895Z",111001,'
        '"[{""start"":0,""end"":5,""text"":""Alice"",""labels"":[""PER""]}]",2.5,'
        '"Alice works at Acme in Paris","2026-11-22T10:29:53.065899Z"\r\n'
    )


def test_conll_is_byte_for_byte_label_studio() -> None:
    assert write("CONLL2003", [RECORDED_TASK]).decode() == (
        "-DOCSTART- -X- O\nAlice -X- _ O\nworks -X- _ O\nat -X- _ O\nAcme -X- _ O\nin -X- _ O\n"
        "Paris -X- _ O\n\nAlice -X- _ B-PER\nworks -X- _ O\nat -X- _ O\nAcme -X- _ O\nin -X- _ O\n"
        "Paris -X- _ O\n\n"
    )


def test_json_min_matches_label_studio() -> None:
    records = json.loads(write("JSON_MIN", [RECORDED_TASK]))
    assert [r["annotation_id"] for r in records] == [1302, 1301]
    assert "label" not in records[0]  # a region of an unknown control is left out
    assert records[1]["label"] == [{"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]}]


def test_a_data_key_named_like_a_control_gets_its_own_column() -> None:
    task = {**RECORDED_TASK, "data": {"text": "Alice works at Acme in Paris", "label": "gold"}}
    header = write("TSV", [task]).decode().splitlines()[0]
    assert '"_data_label"' in header.split("\t") and '"label"' in header.split("\t")


def test_json_array_reads_back_whatever_the_chunking() -> None:
    records = [{"id": 1, "data": {"text": "line\nbreak ] and [ brackets,"}}, {"id": 2, "data": {}}]
    body = b"".join(json_array(records))
    assert json.loads(body) == records
    one_byte_chunks = [body[i : i + 1] for i in range(len(body))]
    assert list(records_from_json_array(one_byte_chunks)) == records
    assert json.loads(b"".join(json_array([]))) == []


def test_zip_stream_emits_bytes_before_the_end() -> None:
    archive = ZipStream()
    big = [bytes([65 + i % 26]) * 300_000 for i in range(6)]
    pieces = list(archive.entry("labels/a.txt", big))
    assert len(pieces) > 1  # the entry left in several pieces, not at close
    pieces += list(archive.entry("classes.txt", [b"Cat\n"]))
    pieces += list(archive.close())
    opened = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert opened.testzip() is None
    assert opened.read("labels/a.txt") == b"".join(big)
    assert opened.read("classes.txt") == b"Cat\n"


def test_local_artifacts_are_published_whole(tmp_path: Path) -> None:
    storage = LocalArtifactStorage(tmp_path)
    writer = storage.writer("exports/1/1.json")
    writer.write(b"half")
    writer.abort()
    assert not storage.exists("exports/1/1.json") and sorted(tmp_path.rglob("*")) == [
        tmp_path / "exports",
        tmp_path / "exports" / "1",
    ]
    writer = storage.writer("exports/1/1.json")
    writer.write_all([b"[", b"]"])
    assert not storage.exists("exports/1/1.json")  # nothing visible before commit
    writer.commit()
    assert b"".join(storage.read("exports/1/1.json")) == b"[]" and writer.size == 2
    storage.delete("exports/1/1.json")
    storage.delete("exports/1/1.json")  # deleting twice is fine
    for key in ("../outside", "/etc/passwd", ""):
        with pytest.raises(ValueError):
            storage.writer(key)


def test_parquet_is_written_in_row_groups_as_tasks_stream_by() -> None:
    import pyarrow.parquet as pq
    from export_svc.formats.parquet import ROWS_PER_GROUP

    records = [
        {"id": i, "data": {"text": f"task {i}"}, "annotations": [], "predictions": [], "meta": {}}
        for i in range(2 * ROWS_PER_GROUP + 7)
    ]
    export_format = find_format("PARQUET")
    assert export_format is not None
    chunks = list(export_format.write(iter(records), CONTEXT))
    assert len(chunks) >= 3  # bytes left after each row group, not only at the end
    opened = pq.ParquetFile(io.BytesIO(b"".join(chunks)))
    assert opened.num_row_groups == 3
    table = opened.read().to_pylist()
    assert [row["id"] for row in table] == list(range(len(records)))
    assert json.loads(table[5]["data"]) == {"text": "task 5"}
    assert table[5]["total_annotations"] is None  # absent fields are nulls, not errors
