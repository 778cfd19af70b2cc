"""JSON (Label Studio's common format) and JSON_MIN (one flat record per annotation)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record, any_config, json_array
from export_svc.formats._items import items, prettify


def write_json(records: Iterable[Record], _context: ExportContext) -> Iterator[bytes]:
    return json_array(records)


def _min_records(records: Iterable[Record], context: ExportContext) -> Iterator[Record]:
    for record in records:
        for item in items(record, context.parsed):
            flat: Record = dict(item.input)
            flat["id"] = item.id
            for name, values in item.output.items():
                flat[name] = prettify(values)
            flat["annotator"] = item.annotator
            flat["annotation_id"] = item.annotation_id
            flat["created_at"] = item.created_at
            flat["updated_at"] = item.updated_at
            flat["lead_time"] = item.lead_time
            yield flat


def write_json_min(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    return json_array(_min_records(records, context))


JSON = register(
    ExportFormat(
        name="JSON",
        title="JSON",
        link="https://labelstud.io/guide/export.html#JSON",
        extension="json",
        fits=any_config,
        write=write_json,
        order=10,
    )
)

JSON_MIN = register(
    ExportFormat(
        name="JSON_MIN",
        title="JSON-MIN",
        link="https://labelstud.io/guide/export.html#JSON-MIN",
        extension="json",
        fits=any_config,
        write=write_json_min,
        order=20,
    )
)
