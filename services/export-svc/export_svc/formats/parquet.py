"""Parquet: one row per task, written in row groups as the tasks stream by (beyond Label Studio).

Scalar task fields are typed columns; `data`, `meta`, `annotations` and `predictions` are
the JSON export's values as JSON text, since their shape differs from project to project
(DuckDB's `json_extract`, Spark's `from_json` and pandas read them back). A row group is
written every `ROWS_PER_GROUP` tasks, so memory holds one group, never the project.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record, any_config
from export_svc.formats._zipstream import ByteSink

if TYPE_CHECKING:
    import pyarrow as pa

#: Tasks per row group: memory holds one group's columns (a few MiB of JSON text).
ROWS_PER_GROUP = 2_000
#: The columns, in order (types in `schema()`).
COLUMNS = (
    "id", "inner_id", "project", "data", "meta", "annotations", "predictions",
    "total_annotations", "cancelled_annotations", "total_predictions", "created_at", "updated_at",
)  # fmt: skip


@cache
def schema() -> pa.Schema:
    """Built on first use: pyarrow (about 60 MiB resident) loads only in processes that write Parquet."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("inner_id", pa.int64()),
            pa.field("project", pa.int64()),
            pa.field("data", pa.string()),
            pa.field("meta", pa.string()),
            pa.field("annotations", pa.string()),
            pa.field("predictions", pa.string()),
            pa.field("total_annotations", pa.int64()),
            pa.field("cancelled_annotations", pa.int64()),
            pa.field("total_predictions", pa.int64()),
            pa.field("created_at", pa.string()),
            pa.field("updated_at", pa.string()),
        ]
    )


JSON_COLUMNS = ("data", "meta", "annotations", "predictions")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _group(rows: list[Record]) -> pa.RecordBatch:
    import pyarrow as pa

    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for row in rows:
        for name, values in columns.items():
            value = row.get(name)
            values.append(_json(value) if name in JSON_COLUMNS else value)
    return pa.RecordBatch.from_pydict(columns, schema=schema())


def write_parquet(records: Iterable[Record], _context: ExportContext) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = ByteSink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema(), compression="zstd")
    try:
        rows: list[Record] = []
        for record in records:
            rows.append(record)
            if len(rows) >= ROWS_PER_GROUP:
                writer.write_batch(_group(rows), row_group_size=ROWS_PER_GROUP)
                rows.clear()
                yield sink.take()
        if rows:
            writer.write_batch(_group(rows), row_group_size=ROWS_PER_GROUP)
    finally:
        writer.close()
    yield sink.take()


PARQUET = register(
    ExportFormat(
        name="PARQUET",
        title="Parquet",
        link="https://parquet.apache.org/docs/",
        extension="parquet",
        fits=any_config,
        write=write_parquet,
        tags=("data pipelines",),
        order=210,
    )
)
