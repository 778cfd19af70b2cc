"""The tasks the benchmarks send: JSON lists on disk, generated once per size (plain tasks for
the task bench, annotated image tasks for the export bench)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

CATEGORIES = tuple(f"c{i}" for i in range(10))
#: The category the data-manager filter selects: one task in ten.
FILTER_CATEGORY = "c3"
TEXT_CHARS = 200

_SENTENCE = (
    "the quick brown fox jumps over a lazy dog while customers review products and "
    "services delivery was late support answered quickly price quality excellent poor "
    "average refund order package arrived broken would recommend again never battery "
    "screen sound fast slow friendly staff experience overall value money"
)
_WORDS = _SENTENCE.split()


def _text(rng: random.Random, number: int) -> str:
    words = [f"#{number}"]
    length = len(words[0])
    while length < TEXT_CHARS:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:TEXT_CHARS]


def tasks_file(cache_dir: Path, count: int) -> Path:
    """`[{"text": ~200 chars, "category": "c0".."c9"}, ...]`, one task a line; cached by size."""
    path = cache_dir / f"tasks-{count}.json"
    if path.exists():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(count)  # noqa: S311 - test data, not secrets
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for number in range(count):
            task = {"text": _text(rng, number), "category": CATEGORIES[number % len(CATEGORIES)]}
            out.write(json.dumps(task, separators=(",", ":")))
            out.write(",\n" if number + 1 < count else "\n")
        out.write("]\n")
    partial.rename(path)
    return path


def read_chunks(path: Path, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The file in chunks, so a 250 MB body is never held in memory."""
    with path.open("rb") as source:
        while chunk := source.read(chunk_size):
            yield chunk


#: Image sizes the annotated tasks' boxes are relative to (`original_width/height`).
IMAGE_WIDTH, IMAGE_HEIGHT = 1280, 720
BOX_LABELS = ("Cat", "Dog", "Bird")


def _box(rng: random.Random, number: int, region: int) -> dict[str, object]:
    return {
        "id": f"r{number}-{region}",
        "from_name": "box",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": IMAGE_WIDTH,
        "original_height": IMAGE_HEIGHT,
        "image_rotation": 0,
        "value": {
            "x": round(rng.uniform(0, 70), 2),
            "y": round(rng.uniform(0, 70), 2),
            "width": round(rng.uniform(5, 30), 2),
            "height": round(rng.uniform(5, 30), 2),
            "rotation": 0,
            "rectanglelabels": [BOX_LABELS[(number + region) % len(BOX_LABELS)]],
        },
    }


def annotated_tasks_file(cache_dir: Path, count: int) -> Path:
    """`[{"data": {"image", "category"}, "annotations": [{"result": [2 boxes]}]}, ...]` for the
    export benchmark: every task annotated, one task a line; cached by size (~0.6 KB a task)."""
    path = cache_dir / f"annotated-{count}.json"
    if path.exists():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(count)  # noqa: S311 - test data, not secrets
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for number in range(count):
            task = {
                "data": {
                    "image": f"/data/upload/1/img-{number:07d}.jpg",
                    "category": CATEGORIES[number % len(CATEGORIES)],
                },
                "annotations": [
                    {"result": [_box(rng, number, 0), _box(rng, number, 1)], "lead_time": 4.2}
                ],
            }
            out.write(json.dumps(task, separators=(",", ":")))
            out.write(",\n" if number + 1 < count else "\n")
        out.write("]\n")
    partial.rename(path)
    return path


def file_parts(path: Path, tasks_per_part: int) -> list[Path]:
    """`path` (a one-task-a-line JSON list) as lists of at most `tasks_per_part` tasks each,
    cached beside it: one import request is capped (Label Studio and LabelOps: 250 MB)."""
    parts: list[Path] = []
    with path.open("rb") as source:
        lines = (line.rstrip(b",\n") for line in source if line.strip() not in (b"[", b"]"))
        number = 0
        while True:
            part = path.with_name(f"{path.stem}.part{number}-{tasks_per_part}.json")
            if part.exists():
                count = sum(1 for _ in zip(range(tasks_per_part), lines, strict=False))
                if count == 0:
                    break
                parts.append(part)
                number += 1
                continue
            taken = [line for _, line in zip(range(tasks_per_part), lines, strict=False)]
            if not taken:
                break
            partial = part.with_suffix(".partial")
            partial.write_bytes(b"[\n" + b",\n".join(taken) + b"\n]\n")
            partial.rename(part)
            parts.append(part)
            number += 1
    return parts
