"""JSONL: the JSON export's task records, one per line (beyond Label Studio, for data teams).

The same records as JSON (`json_full`), each on its own line with no enclosing array, so
`jq`, Spark, BigQuery and pandas (`lines=True`) read them as a stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from export_svc.formats import register
from export_svc.formats._base import ExportContext, ExportFormat, Record, any_config, dumps

#: Records gathered per chunk yielded.
RECORDS_PER_CHUNK = 200


def write_jsonl(records: Iterable[Record], _context: ExportContext) -> Iterator[bytes]:
    pending: list[bytes] = []
    for record in records:
        pending.append(dumps(record) + b"\n")
        if len(pending) >= RECORDS_PER_CHUNK:
            yield b"".join(pending)
            pending.clear()
    if pending:
        yield b"".join(pending)


JSONL = register(
    ExportFormat(
        name="JSONL",
        title="JSON Lines",
        link="https://jsonlines.org/",
        extension="jsonl",
        fits=any_config,
        write=write_jsonl,
        tags=("data pipelines",),
        order=200,
    )
)
