"""CSV and TSV: JSON_MIN's records as rows, columns sorted by name (Label Studio's converter).

The header needs every column of the whole export, so the first pass spools the items to
a temporary file while collecting column names, and the second pass writes the rows.

Task data is written by whoever imported it, and a spreadsheet runs a cell that starts
with `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a formula. Every text
cell, header included, that starts so gets a leading `'` (OWASP's advice on CSV
injection); numbers stay numbers, so a negative number is still written as one.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record, any_config
from export_svc.formats._items import items, prettify

#: Columns every row has.
FIXED_COLUMNS = ("annotator", "annotation_id", "created_at", "updated_at", "lead_time")
#: Rows rendered per chunk yielded.
ROWS_PER_CHUNK = 500
#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with `'`; else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _row(spooled: Record, colliding: set[str]) -> Record:
    row: Record = {"id": spooled["id"]}
    for name, value in spooled["output"].items():
        row[name] = value if isinstance(value, str) else _text(value)
    for name, value in spooled["input"].items():
        column = f"_data_{name}" if name in colliding else name
        row[column] = _text(value) if isinstance(value, dict | list) else value
    annotator = spooled["annotator"]
    row["annotator"] = (
        annotator if annotator is None or isinstance(annotator, str) else str(annotator)
    )
    for name in FIXED_COLUMNS[1:]:
        row[name] = spooled[name]
    return {name: neutralize(value) for name, value in row.items()}


def _delimited(
    records: Iterable[Record], context: ExportContext, delimiter: str
) -> Iterator[bytes]:
    input_keys: set[str] = set()
    output_keys: set[str] = set()
    with tempfile.TemporaryFile() as spool:
        for record in records:
            for item in items(record, context.parsed):
                output = {name: prettify(values) for name, values in item.output.items()}
                input_keys.update(item.input)
                output_keys.update(output)
                line = {
                    "id": item.id,
                    "input": item.input,
                    "output": output,
                    "annotator": item.annotator,
                    "annotation_id": item.annotation_id,
                    "created_at": item.created_at,
                    "updated_at": item.updated_at,
                    "lead_time": item.lead_time,
                }
                spool.write(_text(line).encode() + b"\n")
        colliding = input_keys & output_keys
        columns = sorted(
            {*FIXED_COLUMNS, "id", *output_keys}
            | {f"_data_{k}" if k in colliding else k for k in input_keys}
        )
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=columns, quoting=csv.QUOTE_NONNUMERIC, delimiter=delimiter
        )
        writer.writerow({column: neutralize(column) for column in columns})
        spool.seek(0)
        for number, line_bytes in enumerate(spool, start=1):
            writer.writerow(_row(json.loads(line_bytes), colliding))
            if number % ROWS_PER_CHUNK == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()


def write_csv(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    return _delimited(records, context, ",")


def write_tsv(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    return _delimited(records, context, "\t")


CSV = register(
    ExportFormat(
        name="CSV",
        title="CSV",
        link="https://labelstud.io/guide/export.html#CSV",
        extension="csv",
        fits=any_config,
        write=write_csv,
        order=30,
    )
)

TSV = register(
    ExportFormat(
        name="TSV",
        title="TSV",
        link="https://labelstud.io/guide/export.html#TSV",
        extension="tsv",
        fits=any_config,
        write=write_tsv,
        order=40,
    )
)

#: Label Studio keeps `CSV_OLD` in its format enum (the converter writes nothing for it);
#: accepted here as CSV so a client asking for it gets a file, and not listed, as there.
CSV_OLD = register(
    ExportFormat(
        name="CSV_OLD",
        title="CSV (legacy)",
        link="https://labelstud.io/guide/export.html#CSV",
        extension="csv",
        fits=any_config,
        write=write_csv,
        order=300,
        listed=False,
    )
)
