"""Tests for the streaming import-format parsers."""

from __future__ import annotations

import io
import json
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from task_svc.imports import formats
from task_svc.imports.formats import (
    ALLOWED_EXTENSIONS,
    TABULAR_EXTENSIONS,
    ImportFormatError,
    iter_csv_tasks,
    iter_file_tasks,
    iter_json_tasks,
    iter_jsonl_tasks,
    iter_txt_tasks,
    normalize_item,
)

HAS_IJSON = formats._ijson is not None
BACKENDS = [
    "fallback",
    pytest.param("ijson", marks=pytest.mark.skipif(not HAS_IJSON, reason="no ijson")),
]


@pytest.fixture(params=BACKENDS)
def json_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run JSON tests against both the ijson path and the stdlib raw_decode path."""
    if request.param == "fallback":
        monkeypatch.setattr(formats, "_ijson", None)
    return str(request.param)


def _b(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def _json(text: str) -> list[dict[str, Any]]:
    return list(iter_json_tasks(_b(text)))


def _error(tasks: Iterator[dict[str, Any]]) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as info:
        list(tasks)
    return info.value


class _Trickle(io.RawIOBase):
    """Return at most `step` bytes per read, to cut values at every possible edge."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        limit = self._step if size < 0 else min(size, self._step)
        return self._data.read(limit)


# ------------------------------------------------------------------------ normalize_item


def test_normalize_wraps_plain_object() -> None:
    assert normalize_item({"text": "hi"}, 0) == {"data": {"text": "hi"}}


def test_normalize_keeps_task_keys_and_drops_id_and_unknown() -> None:
    item = {
        "id": 7,
        "data": {"text": "hi"},
        "meta": {"m": 1},
        "annotations": [{"result": []}],
        "predictions": [{"result": [], "score": 0.5}],
        "drafts": [],
        "junk": True,
    }
    assert normalize_item(item, 3) == {
        "data": {"text": "hi"},
        "meta": {"m": 1},
        "annotations": [{"result": []}],
        "predictions": [{"result": [], "score": 0.5}],
        "drafts": [],
    }


@pytest.mark.parametrize("data", ["text", 1, None, [1]])
def test_normalize_rejects_non_object_data(data: Any) -> None:
    with pytest.raises(ImportFormatError) as info:
        normalize_item({"data": data}, 4)
    assert info.value.index == 4
    assert '"data"' in info.value.reason


@pytest.mark.parametrize("item", ["text", 3, None, [1, 2], True])
def test_normalize_rejects_non_object_item(item: Any) -> None:
    with pytest.raises(ImportFormatError) as info:
        normalize_item(item, 2)
    assert info.value.index == 2
    assert "must be a JSON object" in info.value.reason
    assert str(info.value).startswith("Item 2: ")


def test_error_is_value_error_without_index() -> None:
    exc = ImportFormatError("Bad body.")
    assert isinstance(exc, ValueError)
    assert exc.index is None
    assert str(exc) == "Bad body."


# ---------------------------------------------------------------------------------- JSON


def test_json_list(json_backend: str) -> None:
    body = json.dumps([{"text": "a"}, {"data": {"text": "b"}, "id": 9}, {"n": 1.5, "i": 2}])
    assert _json(body) == [
        {"data": {"text": "a"}},
        {"data": {"text": "b"}},
        {"data": {"n": 1.5, "i": 2}},
    ]


def test_json_numbers_are_plain_floats(json_backend: str) -> None:
    [task] = _json('[{"x": 0.1, "y": 10}]')
    assert type(task["data"]["x"]) is float
    assert type(task["data"]["y"]) is int


def test_json_single_object_is_one_task(json_backend: str) -> None:
    assert _json('{"text": "only"}') == [{"data": {"text": "only"}}]
    assert _json('  {"data": {"t": 1}, "meta": {}} ') == [{"data": {"t": 1}, "meta": {}}]


def test_json_empty_list_and_whitespace(json_backend: str) -> None:
    assert _json("[]") == []
    assert _json(" \n[ \n ]\n") == []
    assert _json('\n\t[ {"a" : 1} ,\n {"b":2}\n]\n') == [{"data": {"a": 1}}, {"data": {"b": 2}}]


def test_json_bom(json_backend: str) -> None:
    body = b"\xef\xbb\xbf" + json.dumps([{"t": "\u00e9"}]).encode()
    assert list(iter_json_tasks(io.BytesIO(body))) == [{"data": {"t": "\u00e9"}}]
    single = b"\xef\xbb\xbf" + b'{"t": 1}'
    assert list(iter_json_tasks(io.BytesIO(single))) == [{"data": {"t": 1}}]


@pytest.mark.parametrize("step", [1, 2, 4096])
def test_json_short_reads_with_bom_and_leading_space(json_backend: str, step: int) -> None:
    body = b"\xef\xbb\xbf" + b" " * 5000 + b'\n[{"t": 1}, {"t": 2}]'
    got = list(iter_json_tasks(_Trickle(body, step)))  # type: ignore[arg-type]
    assert got == [{"data": {"t": 1}}, {"data": {"t": 2}}]


def test_json_empty_body(json_backend: str) -> None:
    exc = _error(iter_json_tasks(_b("  \n ")))
    assert exc.index is None
    assert "empty" in exc.reason


def test_json_data_not_dict_names_index(json_backend: str) -> None:
    tasks = iter_json_tasks(_b('[{"a": 1}, {"a": 2}, {"data": "oops"}]'))
    assert next(tasks) == {"data": {"a": 1}}
    exc = _error(tasks)
    assert exc.index == 2


def test_json_scalar_items_rejected(json_backend: str) -> None:
    assert _error(iter_json_tasks(_b('[{"a": 1}, 5]'))).index == 1
    exc = _error(iter_json_tasks(_b('"text"')))
    assert exc.index == 0
    assert "must be a JSON object" in exc.reason


@pytest.mark.parametrize(
    ("body", "index"),
    [
        ('[{"a": 1}, {"a": 2}, {"a": }, {"a": 4}]', 2),
        ('[{"a": 1}, {"a": 2} {"a": 3}]', 2),
        ('[{"a": 1}, {"a": 2}, ]', 2),
        ('[{"a": 1}, {"a": 2}', 2),
        ('[{"a": 1}, {"a": "unterminated', 1),
        ("[{'a': 1}]", 0),
        ('{"a": 1', 0),
    ],
)
def test_json_malformed_names_item_index(json_backend: str, body: str, index: int) -> None:
    exc = _error(iter_json_tasks(_b(body)))
    assert exc.index == index
    assert exc.reason.startswith("Invalid JSON")


def test_json_malformed_mid_stream_yields_earlier_items(json_backend: str) -> None:
    good = ",".join(json.dumps({"text": f"t{i}"}) for i in range(1000))
    tasks = iter_json_tasks(_b(f"[{good}, {{broken}}]"))
    seen = 0
    with pytest.raises(ImportFormatError) as info:
        for _ in tasks:
            seen += 1
    assert seen == 1000
    assert info.value.index == 1000


def test_json_invalid_utf8(json_backend: str) -> None:
    exc = _error(iter_json_tasks(io.BytesIO(b'[{"a": "\xff\xfe"}]')))
    assert exc.reason.startswith("Invalid JSON")


def test_json_trailing_data_rejected(json_backend: str) -> None:
    with pytest.raises(ImportFormatError):
        _json('[{"a": 1}] [')
    with pytest.raises(ImportFormatError):
        _json('{"a": 1} {"b": 2}')


def test_fallback_handles_values_cut_at_every_chunk_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Numbers, strings and literals split across reads must decode exactly once, whole."""
    monkeypatch.setattr(formats, "_ijson", None)
    monkeypatch.setattr(formats, "_CHUNK_SIZE", 3)
    items = [
        {"n": 1234567890, "f": -12.5e3, "t": True, "z": None, "s": "caf\u00e9 \u2603 \U0001f600"},
        {"data": {"nested": [1, 2, {"x": "y"}]}, "meta": {"k": False}},
    ] * 5
    body = json.dumps(items, ensure_ascii=False).encode()
    for step in (1, 2, 5, 7):
        got = list(iter_json_tasks(_Trickle(body, step)))  # type: ignore[arg-type]
        assert got == [normalize_item(item, i) for i, item in enumerate(items)]


def test_fallback_large_single_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """An item far bigger than a chunk is assembled by growing the window."""
    monkeypatch.setattr(formats, "_ijson", None)
    monkeypatch.setattr(formats, "_CHUNK_SIZE", 1024)
    big = "x" * 300_000
    body = json.dumps([{"a": 1}, {"text": big}, {"a": 3}])
    assert [len(t["data"].get("text", "")) for t in _json(body)] == [0, 300_000, 0]


def test_fallback_error_position_is_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "_ijson", None)
    monkeypatch.setattr(formats, "_CHUNK_SIZE", 64)
    good = ",".join(json.dumps({"i": i}) for i in range(50))
    body = f"[{good},{{oops}}]"
    exc = _error(iter_json_tasks(_b(body)))
    assert exc.index == 50
    assert f"character {body.index('oops')}" in exc.reason


# --------------------------------------------------------------------------------- JSONL


def test_jsonl() -> None:
    body = '{"text": "a"}\n\n  \r\n{"data": {"text": "b"}, "predictions": []}\r\n{"t": 3}'
    assert list(iter_jsonl_tasks(_b(body))) == [
        {"data": {"text": "a"}},
        {"data": {"text": "b"}, "predictions": []},
        {"data": {"t": 3}},
    ]


def test_jsonl_bom_and_errors() -> None:
    assert list(iter_jsonl_tasks(io.BytesIO(b'\xef\xbb\xbf{"a": 1}\n'))) == [{"data": {"a": 1}}]
    exc = _error(iter_jsonl_tasks(_b('{"a": 1}\n\n{"a": \n{"a": 3}\n')))
    assert exc.index == 1
    assert "line 3" in exc.reason
    exc = _error(iter_jsonl_tasks(_b('{"a": 1}\n[1]\n')))
    assert exc.index == 1
    assert "must be a JSON object" in exc.reason
    exc = _error(iter_jsonl_tasks(_b('{"a": 1}\n{"data": 5}\n')))
    assert exc.index == 1


# ----------------------------------------------------------------------------- CSV / TSV


def _csv(text: str, **kwargs: Any) -> list[dict[str, Any]]:
    return list(iter_csv_tasks(_b(text), **kwargs))


def test_csv_comma() -> None:
    assert _csv("text,label\nhello,pos\nworld,\n") == [
        {"data": {"text": "hello", "label": "pos"}},
        {"data": {"text": "world", "label": ""}},
    ]


def test_csv_semicolon_sniffed() -> None:
    assert _csv("text;score\nhello, world;1\nbye;2\n") == [
        {"data": {"text": "hello, world", "score": "1"}},
        {"data": {"text": "bye", "score": "2"}},
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_sniffs_each_delimiter(delimiter: str) -> None:
    """Other candidates appear inside cells; the consistent split must win."""
    other = "".join(c for c in ",;|" if c != delimiter)
    body = delimiter.join(["text", "n"]) + "\n"
    body += "".join(
        f'"q{delimiter}x"{delimiter}{i}\nplain {other} {i}{delimiter}{i}\n' for i in range(3)
    )
    got = _csv(body)
    assert len(got) == 6
    assert got[0] == {"data": {"text": f"q{delimiter}x", "n": "0"}}
    assert got[1] == {"data": {"text": f"plain {other} 0", "n": "0"}}


def test_csv_sniffing_is_fast_on_unbalanced_quotes() -> None:
    """csv.Sniffer needs seconds on this 64 KiB sample; ours must not."""
    body = "text\n" + "".join(f'a "b {i}\n' for i in range(8000))
    start = time.perf_counter()
    got = _csv(body)
    assert time.perf_counter() - start < 1.0
    assert got[0] == {"data": {"text": 'a "b 0'}}
    assert len(got) == 8000


def test_csv_single_column_defaults_to_comma() -> None:
    assert _csv("text\nhello there\nbye\n") == [
        {"data": {"text": "hello there"}},
        {"data": {"text": "bye"}},
    ]


def test_csv_explicit_delimiter_and_tsv() -> None:
    assert _csv("a\tb\n1\t2,3\n", delimiter="\t") == [{"data": {"a": "1", "b": "2,3"}}]
    tasks = list(iter_file_tasks("x.TSV", _b("a\tb\n1\t\n")))
    assert tasks == [{"data": {"a": "1", "b": ""}}]


def test_csv_bom_quoted_newlines_and_short_rows() -> None:
    body = '\ufefftext,note\n"line one\nline two","say ""hi"""\n\nshort\n'
    assert list(iter_csv_tasks(io.BytesIO(body.encode("utf-8")))) == [
        {"data": {"text": "line one\nline two", "note": 'say "hi"'}},
        {"data": {"text": "short", "note": ""}},
    ]


def test_csv_crlf() -> None:
    assert _csv("a,b\r\n1,2\r\n3,4\r\n") == [
        {"data": {"a": "1", "b": "2"}},
        {"data": {"a": "3", "b": "4"}},
    ]


def test_csv_too_many_cells_names_row() -> None:
    exc = _error(iter_csv_tasks(_b("a,b\n1,2\n3,4\n5,6,7\n")))
    assert exc.index == 2
    assert "3 cells" in exc.reason


def test_csv_duplicate_and_blank_headers_kept() -> None:
    assert _csv("a,a,,b\n1,2,3,4\n") == [
        {"data": {"a": "1", "a.1": "2", "Unnamed: 2": "3", "b": "4"}}
    ]


def test_csv_empty_and_header_only() -> None:
    assert _csv("") == []
    assert _csv("a,b\n") == []


def test_csv_sniff_sample_boundary_does_not_split_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows straddling the 64 KiB sniff sample must come through intact."""
    monkeypatch.setattr(formats, "_SNIFF_SIZE", 50)
    rows = [f"row {i} with text;{i}" for i in range(200)]
    got = _csv("text;n\n" + "\n".join(rows) + "\n")
    assert [t["data"]["text"] for t in got] == [r.split(";")[0] for r in rows]
    assert got[-1]["data"]["n"] == "199"


def test_csv_long_cell() -> None:
    long = "y" * 500_000
    assert _csv(f"text\n{long}\n") == [{"data": {"text": long}}]


def test_csv_leaves_stream_open() -> None:
    stream = _b("a\n1\n")
    assert len(list(iter_csv_tasks(stream))) == 1
    assert not stream.closed


def test_csv_invalid_utf8() -> None:
    exc = _error(iter_csv_tasks(io.BytesIO(b"a,b\n1,\xff\n")))
    assert "UTF-8" in exc.reason


# ----------------------------------------------------------------------------------- TXT


def test_txt_skips_blank_lines() -> None:
    body = "\ufefffirst line\n\n   \r\nsecond line\r\nthird"
    assert list(iter_txt_tasks(io.BytesIO(body.encode()))) == [
        {"data": {"$undefined$": "first line"}},
        {"data": {"$undefined$": "second line"}},
        {"data": {"$undefined$": "third"}},
    ]


def test_txt_leaves_stream_open() -> None:
    stream = _b("a\n")
    list(iter_txt_tasks(stream))
    assert not stream.closed


# ------------------------------------------------------------------------------ dispatch


def test_dispatch_by_extension() -> None:
    assert list(iter_file_tasks("a.JSON", _b('[{"t": 1}]'))) == [{"data": {"t": 1}}]
    assert list(iter_file_tasks("a.jsonl", _b('{"t": 1}\n'))) == [{"data": {"t": 1}}]
    assert list(iter_file_tasks("dir/a.csv", _b("t\n1\n"))) == [{"data": {"t": "1"}}]
    assert list(iter_file_tasks("a.txt", _b("x\n"))) == [{"data": {"$undefined$": "x"}}]


@pytest.mark.parametrize("rolled", [False, True])
@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("a.json", b'[{"t": "1"}]'),
        ("a.jsonl", b'{"t": "1"}\n'),
        ("a.csv", b"t;u\n1;\n"),
        ("a.tsv", b"t\tu\n1\t\n"),
    ],
)
def test_spooled_upload_files(name: str, body: bytes, rolled: bool) -> None:
    """FastAPI hands over a SpooledTemporaryFile, in memory or rolled to disk; it stays open."""
    with tempfile.SpooledTemporaryFile(max_size=0 if rolled else 1 << 20) as upload:
        upload.write(body)
        upload.seek(0)
        tasks = list(iter_file_tasks(name, upload))  # type: ignore[arg-type]
        assert not upload.closed
    assert tasks[0]["data"]["t"] == "1"


@pytest.mark.parametrize("name", ["page.html", "page.HTM", "doc.xml"])
def test_hypertext_is_one_task(name: str) -> None:
    body = "<html>\n<body><p>Hi</p>\n\n</body></html>\n"
    assert list(iter_file_tasks(name, _b(body))) == [{"data": {"$undefined$": body}}]


@pytest.mark.parametrize("name", ["cat.jpg", "song.MP3", "clip.webm", "scan.pdf"])
def test_media_points_at_upload_url(name: str) -> None:
    url = f"/data/upload/1/{name}"
    tasks = list(iter_file_tasks(name, io.BytesIO(b"\x89binary"), upload_url=url))
    assert tasks == [{"data": {"$undefined$": url}}]


def test_media_without_upload_url_is_caller_error() -> None:
    with pytest.raises(ValueError, match="upload_url") as info:
        list(iter_file_tasks("cat.png", io.BytesIO(b"")))
    assert not isinstance(info.value, ImportFormatError)


@pytest.mark.parametrize(
    ("name", "shown"), [("evil.exe", ".exe"), ("archive.tar.gz", ".gz"), ("noext", "(none)")]
)
def test_unknown_extension(name: str, shown: str) -> None:
    exc = _error(iter_file_tasks(name, _b("x")))
    assert shown in exc.reason
    assert exc.index is None


def test_extension_sets() -> None:
    assert TABULAR_EXTENSIONS <= ALLOWED_EXTENSIONS
    assert {".json", ".jsonl", ".html", ".mp4", ".webp", ".pdf"} <= ALLOWED_EXTENSIONS
    assert all(ext.startswith(".") and ext == ext.lower() for ext in ALLOWED_EXTENSIONS)


# -------------------------------------------------------------------------------- memory

_BIG_ITEMS = 200_000


@pytest.fixture(scope="module")
def big_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~40 MB JSON list of 200,000 tasks, written once for the module."""
    path = tmp_path_factory.mktemp("big") / "tasks.json"
    padding = "lorem ipsum dolor sit amet " * 5
    items = (
        f'{{"data": {{"text": "{padding}{i}", "n": {i}}}, "meta": {{"row": {i}}}}}'
        for i in range(_BIG_ITEMS)
    )
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[\n")
        fh.writelines(f"{',' if i else ''}{item}\n" for i, item in enumerate(items))
        fh.write("]\n")
    assert path.stat().st_size > 35_000_000
    return path


def _count(path: Path) -> tuple[int, dict[str, Any]]:
    count = 0
    last: dict[str, Any] = {}
    with path.open("rb") as fh:
        for task in iter_json_tasks(fh):
            count += 1
            last = task
    return count, last


def test_json_streaming_memory_is_bounded(monkeypatch: pytest.MonkeyPatch, big_json: Path) -> None:
    """The stdlib streamer (what runs when ijson is absent) keeps memory flat on a big upload.

    tracemalloc makes parsing ~7x slower, so only this backend is traced; ijson buffers
    64 KiB by design and is checked for correctness at scale below.
    """
    monkeypatch.setattr(formats, "_ijson", None)
    tracemalloc.start()
    try:
        count, last = _count(big_json)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == _BIG_ITEMS
    assert last == {
        "data": {"text": last["data"]["text"], "n": _BIG_ITEMS - 1},
        "meta": {"row": _BIG_ITEMS - 1},
    }
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.skipif(not HAS_IJSON, reason="no ijson")
def test_json_ijson_streams_big_file(big_json: Path) -> None:
    count, last = _count(big_json)
    assert count == _BIG_ITEMS
    assert last["meta"] == {"row": _BIG_ITEMS - 1}


# ----------------------------------------------------------------------- nesting depth

MAX_DEPTH = formats.MAX_JSON_DEPTH


class _Chunked(io.RawIOBase):
    """A stream that hands out at most `size` bytes per read, to cut escapes and strings."""

    def __init__(self, body: bytes, size: int) -> None:
        self._body = io.BytesIO(body)
        self._size = size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._body.read(self._size if size < 0 else min(size, self._size))


def test_deeply_nested_json_is_refused_quickly_in_bounded_memory(json_backend: str) -> None:
    """200 KB of `[` made ijson hold over 20 GB (one path prefix per level) until the OOM
    killer took the whole server; the stdlib decoder recursed past its limit."""
    body = b"[" * 100_000 + b"]" * 100_000
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ImportFormatError, match="nested deeper than 200 levels"):
            list(iter_json_tasks(io.BytesIO(body)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert peak < 50 * 1024 * 1024


@pytest.mark.parametrize("size", [1, 3, 7, 4096])
def test_nesting_is_counted_outside_strings_only(json_backend: str, size: int) -> None:
    """Brackets in strings, escaped quotes and escaped backslashes (cut at any chunk edge)
    do not count; the limit itself is allowed."""
    text = "[[[" * 80 + '\\"' + "{{{" + "\\\\"
    deep_data: Any = {"text": text}
    for _ in range(MAX_DEPTH - 3):  # the list, the task and "data" are three levels
        deep_data = {"a": deep_data}
    body = json.dumps([{"data": deep_data}]).encode()
    tasks = list(iter_json_tasks(_Chunked(body, size)))  # type: ignore[arg-type]
    assert len(tasks) == 1
    inner = tasks[0]["data"]
    for _ in range(MAX_DEPTH - 3):
        inner = inner["a"]
    assert inner == {"text": text}

    one_deeper = json.dumps([{"data": {"a": deep_data}}]).encode()
    with pytest.raises(ImportFormatError, match="nested deeper"):
        list(iter_json_tasks(_Chunked(one_deeper, size)))  # type: ignore[arg-type]


def test_deep_jsonl_line_is_refused_with_its_item() -> None:
    body = b'{"text": "fine"}\n' + b'{"data": {"text": ' + b"[" * 5000 + b"]" * 5000 + b"}}\n"
    with pytest.raises(ImportFormatError) as refused:
        list(iter_jsonl_tasks(io.BytesIO(body)))
    assert refused.value.index == 1
    assert "nested deeper than 200 levels" in refused.value.reason
