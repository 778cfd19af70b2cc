"""CONLL2003: one token per line with its BIO tag, for named entity recognition on `Labels` over `Text`.

Tokens come from NLTK's Treebank tokenizer and tags follow Label Studio's converter
(`create_tokens_and_tags`), so files match what Label Studio writes for the same spans.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

from nltk.tokenize.treebank import TreebankWordTokenizer

from export_svc.formats import register
from export_svc.formats._base import ConfigShape, ExportContext, ExportFormat, Record
from export_svc.formats._items import items

_TOKENIZER = TreebankWordTokenizer()


def fits(shape: ConfigShape) -> bool:
    return shape.data_key_count <= 1 and "Text" in shape.objects and "Labels" in shape.controls


def tokens_and_tags(text: str, spans: list[dict[str, Any]] | None) -> tuple[list[str], list[str]]:
    pieces = [(text[start:end], start) for start, end in _TOKENIZER.span_tokenize(text)]
    tokens = [token for token, _ in pieces]
    if not spans or not all(
        span.get("start") is not None and span.get("end") is not None for span in spans
    ):
        return tokens, ["O"] * len(tokens)
    pending = sorted(spans, key=itemgetter("start"))
    span: dict[str, Any] = pending.pop(0)
    span_start, span_end, prefix = span["start"], span["end"] - 1, "B-"
    tags: list[str] = []
    for token, token_start in pieces:
        token_end = token_start + len(token) - 1
        if token_start > span_end:
            while pending:
                span = pending.pop(0)
                span_start, span_end, prefix = span["start"], span["end"] - 1, "B-"
                if token_start <= span_end:
                    break
        if not span or token_end < span_start or not span.get("labels"):
            tags.append("O")
        elif span_start <= token_end and span_end >= token_start:
            tags.append(prefix + span["labels"][0])
            prefix = "I-"
        else:
            tags.append("O")
    return tokens, tags


def write_conll(records: Iterable[Record], context: ExportContext) -> Iterator[bytes]:
    data_key = context.data_key_of(["Text"])
    yield b"-DOCSTART- -X- O\n"
    for record in records:
        lines: list[str] = []
        for item in items(record, context.parsed):
            text = item.input.get(data_key or "")
            if not isinstance(text, str):
                continue
            labelled = [v for v in item.output.values() if v and v[0]["type"].lower() == "labels"]
            tokens, tags = tokens_and_tags(text, labelled[0] if labelled else None)
            lines.extend(f"{token} -X- _ {tag}\n" for token, tag in zip(tokens, tags, strict=True))
            lines.append("\n")
        if lines:
            yield "".join(lines).encode()


CONLL2003 = register(
    ExportFormat(
        name="CONLL2003",
        title="CONLL2003",
        link="https://labelstud.io/guide/export.html#CONLL2003",
        extension="conll",
        fits=fits,
        write=write_conll,
        tags=("sequence labeling", "text tagging", "named entity recognition"),
        order=50,
    )
)
