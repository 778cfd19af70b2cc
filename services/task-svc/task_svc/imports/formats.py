"""Label Studio-compatible parsing of import bodies into task dicts.

Every parser is a generator so a ~250 MB, 1M-task upload is processed in
bounded memory: callers consume tasks in batches instead of materialising the
whole list the way Label Studio's ``json.load`` / ``pandas.read_csv`` do.
"""

from __future__ import annotations

import codecs
import csv
import importlib
import io
import itertools
import json
import operator
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any, BinaryIO

__all__ = [
    "ALLOWED_EXTENSIONS",
    "PARSED_EXTENSIONS",
    "TABULAR_EXTENSIONS",
    "ImportFormatError",
    "iter_csv_tasks",
    "iter_file_tasks",
    "iter_json_tasks",
    "iter_jsonl_tasks",
    "iter_txt_tasks",
    "normalize_item",
]

# Label Studio's key for data that has no column name (plain text, hypertext, media URLs).
UNDEFINED_KEY = "$undefined$"

ALLOWED_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".bmp",
        ".csv",
        ".flac",
        ".gif",
        ".htm",
        ".html",
        ".jpg",
        ".jpeg",
        ".json",
        ".jsonl",
        ".m4a",
        ".mp3",
        ".ogg",
        ".png",
        ".svg",
        ".tsv",
        ".txt",
        ".wav",
        ".xml",
        ".mp4",
        ".webm",
        ".webp",
        ".pdf",
    }
)
TABULAR_EXTENSIONS = frozenset({".csv", ".tsv", ".txt"})
HYPERTEXT_EXTENSIONS = frozenset({".html", ".htm", ".xml"})
#: Files whose content is parsed into tasks; every other allowed file is media (one task
#: pointing at the stored file, which is never read).
PARSED_EXTENSIONS = frozenset({".json", ".jsonl"}) | TABULAR_EXTENSIONS | HYPERTEXT_EXTENSIONS

# Task keys that survive normalisation; everything else (including "id") is dropped,
# because ids are assigned by us and unknown keys are not part of the task model.
_TASK_KEYS = ("meta", "annotations", "predictions", "drafts")

_CHUNK_SIZE = 1024 * 1024  # bytes read per step by the fallback JSON streamer
_SNIFF_SIZE = 64 * 1024  # characters of CSV looked at to guess the delimiter
_SNIFF_DELIMITERS = ",;\t|"
# csv's default field limit (128 KiB) rejects long texts that pandas accepts; this keeps
# a single cell bounded while allowing realistic documents.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024
_UTF8_BOM = codecs.BOM_UTF8
_WS_CHARS = " \t\n\r"
_JSON_WS = re.compile(r"[ \t\n\r]*")
# A JSON error this close to the end of the buffer may just be a value cut by the chunk edge.
_EDGE_MARGIN = 16
#: Deepest nesting of JSON arrays and objects an import may use. Real tasks nest a few
#: levels; unbounded, a 200 KB body of `[` made ijson hold gigabytes (it keeps a path
#: prefix per open level, so memory grows with the square of the depth) and the stdlib
#: decoder recurse past Python's limit.
MAX_JSON_DEPTH = 200
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_OPENER_AS_TWO = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


class ImportFormatError(ValueError):
    """An import body that cannot be turned into tasks.

    `index` is the 0-based item index (or None when the problem is not tied to
    one item), `reason` a human sentence, so the API can point at the bad task.
    """

    def __init__(self, reason: str, index: int | None = None) -> None:
        self.reason = reason
        self.index = index
        super().__init__(reason if index is None else f"Item {index}: {reason}")


class _NestingGuard:
    """The nesting depth of JSON text fed in chunks, refused past `MAX_JSON_DEPTH`.

    It runs ahead of the parser on the same bytes and costs a few C passes per chunk (no
    Python step per byte): escaped backslashes and quotes are dropped, then everything but
    quotes and brackets, then the inside of strings (every other piece between quotes); the
    brackets left are counted in blocks as long as the room below the limit, and the exact
    running depth is computed only for a block that could pass it.
    """

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self._limit = limit
        self._depth = 0
        self._inside_string = False
        self._pending_backslash = b""

    def feed(self, chunk: bytes, index: int | None = None) -> None:
        if self._pending_backslash or b"\\" in chunk:
            chunk = (self._pending_backslash + chunk).replace(b"\\\\", b"").replace(b'\\"', b"")
            self._pending_backslash = b""
            if chunk.endswith(b"\\"):  # an escape cut by the chunk edge
                self._pending_backslash, chunk = b"\\", chunk[:-1]
        pieces = chunk.translate(None, _NOT_STRUCTURE).split(b'"')
        outside = pieces[1::2] if self._inside_string else pieces[0::2]
        if len(pieces) % 2 == 0:
            self._inside_string = not self._inside_string
        brackets = b"".join(outside).translate(_OPENER_AS_TWO)
        depth, start = self._depth, 0
        while start < len(brackets):
            # A block no longer than the room left below the limit cannot pass it unless
            # its openers do; only then is the exact running depth computed.
            block = brackets[start : start + max(self._limit - depth, 1)]
            openers = block.count(2)
            if depth + openers > self._limit:
                # Depth after the i-th bracket of the block: depth + (sum of the first i) - i.
                steps = map(operator.sub, itertools.accumulate(block), itertools.count(1))
                if depth + max(steps) > self._limit:
                    raise ImportFormatError(
                        "Invalid JSON: arrays and objects are nested deeper than "
                        f"{self._limit} levels.",
                        index,
                    )
            depth += 2 * openers - len(block)
            start += len(block)
        self._depth = depth


class _GuardedReader:
    """A binary reader whose bytes pass a `_NestingGuard` before the parser sees them."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._guard = _NestingGuard()

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self._stream.read(size)
        self._guard.feed(chunk)
        return chunk


def _load_ijson() -> Any | None:
    """ijson (C parser) when installed; a build without it falls back to the stdlib streamer."""
    try:
        return importlib.import_module("ijson")
    except ImportError:
        return None


# Module attribute so tests can force the pure-stdlib streamer.
_ijson: Any | None = _load_ijson()


def normalize_item(item: Any, index: int) -> dict[str, Any]:
    """Apply Label Studio's rule: a dict with "data" is a task, any other dict is its data."""
    if not isinstance(item, dict):
        raise ImportFormatError(f"Each task must be a JSON object, got {_json_type(item)}.", index)
    if "data" not in item:
        return {"data": item}
    data = item["data"]
    if not isinstance(data, dict):
        raise ImportFormatError(
            f'The "data" field must be a JSON object, got {_json_type(data)}.', index
        )
    task: dict[str, Any] = {"data": data}
    for key in _TASK_KEYS:
        if key in item:
            task[key] = item[key]
    return task


def _json_type(value: Any) -> str:
    """Name a value by its JSON type, since the user wrote JSON, not Python."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------- JSON


def iter_json_tasks(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    """Yield tasks from a JSON list of items or from one JSON object (a single task).

    Lists are streamed item by item so memory stays bounded by the largest item.
    """
    head = _read_json_head(stream)
    first = head.lstrip(b" \t\r\n")[:1]
    if not first:
        raise ImportFormatError("Invalid JSON: the body is empty.")
    reader = _GuardedReader(_PrefixedReader(head, stream))
    if first == b"[" and _ijson is not None:
        yield from _iter_json_list_ijson(reader)
    else:
        yield from _iter_json_fallback(reader)


def _read_json_head(stream: BinaryIO) -> bytes:
    """Read until the first non-whitespace byte (BOM stripped) so we can tell list from object."""
    head = b""
    while True:
        more = stream.read(4096)
        head += more
        body = head[len(_UTF8_BOM) :] if head.startswith(_UTF8_BOM) else head
        if not more or body.lstrip(b" \t\r\n"):
            return body


class _PrefixedReader:
    """A binary reader that replays bytes already consumed while peeking, then the stream."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size < 0:
                data = self._prefix + self._stream.read()
                self._prefix = b""
                return data
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        return self._stream.read(size)


def _iter_json_list_ijson(reader: _GuardedReader) -> Iterator[dict[str, Any]]:
    """Stream a top-level list with ijson's C parser (faster than the fallback)."""
    assert _ijson is not None
    index = 0
    items = _ijson.items(reader, "item", use_float=True)
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise ImportFormatError("Invalid JSON: the body is not valid UTF-8.", index) from None
        except _ijson.JSONError as exc:
            raise ImportFormatError(f"Invalid JSON: {_ijson_message(exc)}", index) from None
        yield normalize_item(item, index)
        index += 1


def _ijson_message(exc: Exception) -> str:
    """yajl messages span several lines with a caret diagram; keep the first line."""
    first = exc.args[0] if exc.args else ""
    # yajl's C backend passes its message as bytes; str() of that is a repr.
    text = (first.decode("utf-8", "replace") if isinstance(first, bytes) else str(exc)).strip()
    if not text:
        return "the body is not valid JSON."
    return text.splitlines()[0].strip()


class _TextWindow:
    """A sliding window of decoded text over a binary stream.

    Only the unconsumed tail is kept, so memory is bounded by the chunk size plus
    the item being decoded.
    """

    def __init__(self, stream: _GuardedReader) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self._json = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.offset = 0  # characters dropped before `buf`, for error positions
        self.eof = False

    def fill(self, size: int, index: int | None) -> bool:
        """Append at least `size` more bytes of text; False once the stream is exhausted."""
        if self.eof:
            return False
        chunk = self._stream.read(size)
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise ImportFormatError("Invalid JSON: the body is not valid UTF-8.", index) from None
        self.offset += self.pos
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        if not chunk:
            self.eof = True
        return bool(chunk)

    def peek(self, index: int | None) -> str | None:
        """Skip whitespace and return the next character (None at end of input)."""
        while True:
            if self.pos < len(self.buf) and self.buf[self.pos] not in _WS_CHARS:
                return self.buf[self.pos]  # fast path: no regex match object per item
            match = _JSON_WS.match(self.buf, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill(_CHUNK_SIZE, index) and self.pos >= len(self.buf):
                return None

    def decode(self, index: int | None) -> Any:
        """Decode the JSON value at the cursor, reading more input while it may be cut off."""
        self.peek(index)  # raw_decode does not skip leading whitespace
        while True:
            try:
                value, end = self._json.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof or not self._maybe_truncated(exc):
                    position = self.offset + exc.pos
                    raise ImportFormatError(
                        f"Invalid JSON: {exc.msg} at character {position}.", index
                    ) from None
            else:
                # A value ending exactly at the buffer edge may be a number cut in half.
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return value
            # Grow geometrically so a huge item costs O(size), not O(size^2), re-parses.
            self.fill(max(_CHUNK_SIZE, len(self.buf) - self.pos), index)

    def _maybe_truncated(self, exc: json.JSONDecodeError) -> bool:
        """Tell "the chunk ended mid-value" from a real syntax error without reading on."""
        if exc.msg.startswith("Unterminated string"):
            return True  # the string runs to the end of what we have
        return exc.pos >= len(self.buf) - _EDGE_MARGIN


def _iter_json_fallback(reader: _GuardedReader) -> Iterator[dict[str, Any]]:
    """Stream a list (or take one object) with raw_decode; used when ijson is absent."""
    window = _TextWindow(reader)
    first = window.peek(0)
    if first is None:
        raise ImportFormatError("Invalid JSON: the body is empty.")
    if first != "[":
        value = window.decode(0)
        _expect_end(window)
        yield normalize_item(value, 0)
        return
    window.pos += 1
    index = 0
    if window.peek(index) == "]":
        window.pos += 1
        _expect_end(window)
        return
    while True:
        item = window.decode(index)
        yield normalize_item(item, index)
        index += 1
        char = window.peek(index)
        if char == ",":
            window.pos += 1
        elif char == "]":
            window.pos += 1
            break
        elif char is None:
            raise ImportFormatError("Invalid JSON: the list is not closed with ']'.", index)
        else:
            position = window.offset + window.pos
            raise ImportFormatError(
                f"Invalid JSON: expected ',' or ']' at character {position}.", index
            )
    _expect_end(window)


def _expect_end(window: _TextWindow) -> None:
    """Reject trailing content, as json.load would."""
    if window.peek(None) is not None:
        position = window.offset + window.pos
        raise ImportFormatError(f"Invalid JSON: extra data at character {position}.")


def iter_jsonl_tasks(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    """Yield one task per non-empty line; the index counts items, not physical lines."""
    index = 0
    for line_number, raw in enumerate(stream, start=1):
        line = raw[len(_UTF8_BOM) :] if line_number == 1 and raw.startswith(_UTF8_BOM) else raw
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFormatError(
                f"Invalid JSON on line {line_number}: the line is not valid UTF-8.", index
            ) from None
        if not text.strip():
            continue
        _NestingGuard().feed(line, index)
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(
                f"Invalid JSON on line {line_number}: {exc.msg} at column {exc.colno}.", index
            ) from None
        yield normalize_item(item, index)
        index += 1


# ---------------------------------------------------------------------- CSV / TSV / TXT


def iter_csv_tasks(stream: BinaryIO, *, delimiter: str | None = None) -> Iterator[dict[str, Any]]:
    """Yield one task per row, keyed by the header row (pandas-like, but streamed).

    Cells stay strings and empty cells become "" (Label Studio's ``fillna("")``).
    """
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    index = 0
    try:
        lines: Iterator[str] = iter(text)
        if delimiter is None:
            sample = _read_text(text, _SNIFF_SIZE, index)
            # Finish the current line: csv must never see a physical line split in two.
            sample += _read_line(text, index)
            delimiter = _sniff_delimiter(sample)
            lines = itertools.chain(io.StringIO(sample, newline=""), text)
        reader = csv.reader(_decoded(lines, lambda: index), delimiter=delimiter)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise ImportFormatError(f"Invalid CSV header: {exc}.") from None
        if header is None:
            return
        columns = _dedupe_columns(header)
        while True:
            try:
                row = next(reader, None)
            except csv.Error as exc:
                raise ImportFormatError(f"Invalid CSV: {exc}.", index) from None
            if row is None:
                return
            if not row:
                continue  # blank line, as DictReader and pandas skip them
            if len(row) > len(columns):
                raise ImportFormatError(
                    f"The row has {len(row)} cells but the header has {len(columns)} columns.",
                    index,
                )
            data = dict(zip(columns, itertools.chain(row, itertools.repeat("")), strict=False))
            yield {"data": data}
            index += 1
    finally:
        # Hand the caller's stream back open; closing the wrapper would close it too.
        text.detach()


def _read_text(text: io.TextIOWrapper, size: int, index: int) -> str:
    try:
        return text.read(size)
    except UnicodeDecodeError:
        raise ImportFormatError("The file is not valid UTF-8.", index) from None


def _read_line(text: io.TextIOWrapper, index: int) -> str:
    try:
        return text.readline()
    except UnicodeDecodeError:
        raise ImportFormatError("The file is not valid UTF-8.", index) from None


def _decoded(lines: Iterator[str], current_index: Any) -> Iterator[str]:
    """Turn decoding failures inside csv.reader's pulls into ImportFormatError."""
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise ImportFormatError("The file is not valid UTF-8.", current_index()) from None
        yield line


def _sniff_delimiter(sample: str) -> str:
    """Guess the delimiter as the candidate that splits the sample into a consistent table.

    Not csv.Sniffer: its quote-guessing regex is quadratic and takes seconds on a
    64 KiB sample full of apostrophes. Parsing with csv.reader per candidate is linear
    and respects quoting. A single-column file has no delimiter, so comma is the default.
    """
    best, best_score = ",", (0.0, 0)
    for candidate in _SNIFF_DELIMITERS:
        widths = _row_widths(sample, candidate)
        if not widths or widths[0] < 2:
            continue
        header, rows = widths[0], widths[1:] or widths[:1]
        if any(width > header for width in rows):
            continue  # this split would make rows overflow the header
        score = (sum(width == header for width in rows) / len(rows), header)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _row_widths(sample: str, delimiter: str) -> list[int]:
    """Cell counts of the sample's non-blank rows when split by `delimiter`."""
    widths: list[int] = []
    try:
        for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
            if row:
                widths.append(len(row))
    except csv.Error:
        pass  # judge on the rows read before the problem
    return widths


def _dedupe_columns(header: list[str]) -> list[str]:
    """Name blank and repeated headers like pandas does, so no column silently vanishes."""
    seen: dict[str, int] = {}
    columns: list[str] = []
    for position, raw in enumerate(header):
        name = raw.strip() or f"Unnamed: {position}"
        candidate = name
        while candidate in seen:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
        seen.setdefault(candidate, 0)
        columns.append(candidate)
    return columns


def iter_txt_tasks(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    """Yield one task per non-empty line, as Label Studio does for .txt uploads."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig")
    index = 0
    try:
        lines = _decoded(iter(text), lambda: index)
        for line in lines:
            value = line.rstrip("\r\n")
            if not value.strip():
                continue
            yield {"data": {UNDEFINED_KEY: value}}
            index += 1
    finally:
        text.detach()


# ---------------------------------------------------------------------------- dispatch


def iter_file_tasks(
    filename: str, stream: BinaryIO, *, upload_url: str | None = None
) -> Iterator[dict[str, Any]]:
    """Pick the parser by extension, as Label Studio's file upload does.

    Media files become one task pointing at `upload_url`, where the caller stored the file.
    """
    extension = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        shown = extension or "(none)"
        raise ImportFormatError(
            f"Unsupported file extension {shown!r} for {filename!r}; "
            f"allowed: {', '.join(sorted(ALLOWED_EXTENSIONS))}."
        )
    if extension == ".json":
        yield from iter_json_tasks(stream)
    elif extension == ".jsonl":
        yield from iter_jsonl_tasks(stream)
    elif extension == ".csv":
        yield from iter_csv_tasks(stream)
    elif extension == ".tsv":
        yield from iter_csv_tasks(stream, delimiter="\t")
    elif extension == ".txt":
        yield from iter_txt_tasks(stream)
    elif extension in HYPERTEXT_EXTENSIONS:
        body = stream.read()
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFormatError(f"{filename!r} is not valid UTF-8.", 0) from None
        yield {"data": {UNDEFINED_KEY: text}}
    else:
        if upload_url is None:
            # A caller bug, not a user error: media must be stored before it is referenced.
            raise ValueError(f"upload_url is required to import media file {filename!r}")
        yield {"data": {UNDEFINED_KEY: upload_url}}
