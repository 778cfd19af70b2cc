"""The parity corpus: small projects of every kind, as Label Studio's JSON export records.

Each project is a labeling config and tasks with annotations the way the labeling UI
saves them (regions with `original_width`/`original_height`, brush masks as RLE, keypoints
hung on their boxes by `parentID`, relations without a `from_name`). `test_parity.py` feeds
the same records to export-svc's writers and to `label_studio_sdk.converter`.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from label_studio_sdk.converter.brush import mask2rle
from PIL import Image


@dataclass(frozen=True)
class Project:
    name: str
    config: str
    tasks: list[dict[str, Any]]
    #: Media the tasks refer to, by upload key (`upload/<project>/<file>`).
    media: dict[str, bytes] = field(default_factory=dict)


PROJECT_ID = 7
_ids = iter(range(5000, 100000))


def annotation(
    result: list[dict[str, Any]],
    *,
    created_at: str = "2026-11-22T10:00:00.000000Z",
    completed_by: Any = 3,
    was_cancelled: bool = False,
) -> dict[str, Any]:
    return {
        "id": next(_ids),
        "completed_by": completed_by,
        "result": result,
        "was_cancelled": was_cancelled,
        "ground_truth": False,
        "created_at": created_at,
        "updated_at": created_at,
        "lead_time": 4.5,
        "prediction": {},
        "result_count": len(result),
    }


def task(task_id: int, data: dict[str, Any], *annotations: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": task_id,
        "data": data,
        "annotations": list(annotations),
        "predictions": [],
        "drafts": [],
        "meta": {},
        "inner_id": task_id,
        "project": PROJECT_ID,
        "total_annotations": len(annotations),
        "cancelled_annotations": 0,
        "total_predictions": 0,
        "created_at": None,
        "updated_at": None,
    }


def region(
    from_name: str, to_name: str, kind: str, value: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "id": next_region(),
        "from_name": from_name,
        "to_name": to_name,
        "type": kind,
        "value": value,
        **extra,
    }


_region_ids = iter(range(1, 100000))


def next_region() -> str:
    return f"r{next(_region_ids)}"


def sized(width: int = 640, height: int = 480) -> dict[str, Any]:
    return {"original_width": width, "original_height": height, "image_rotation": 0}


# -------------------------------------------------------------------------------- text

NER = Project(
    name="ner",
    config="""<View>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/><Label value="LOC"/></Labels>
  <Text name="text" value="$text"/>
</View>""",
    tasks=[
        task(
            1,
            {"text": "Alice works at Acme in Paris."},
            annotation(
                [
                    region(
                        "label",
                        "text",
                        "labels",
                        {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
                    ),
                    region(
                        "label",
                        "text",
                        "labels",
                        {"start": 15, "end": 19, "text": "Acme", "labels": ["ORG"]},
                    ),
                ]
            ),
            annotation(
                [
                    region(
                        "label",
                        "text",
                        "labels",
                        {"start": 23, "end": 28, "text": "Paris", "labels": ["LOC"]},
                    )
                ],
                created_at="2026-11-23T10:00:00.000000Z",
                completed_by=4,
            ),
        ),
        task(2, {"text": "Nobody here, =1+2 said Bob."}),
        task(
            3,
            {"text": "Skipped one."},
            annotation([], was_cancelled=True),
        ),
    ],
)

CLASSIFICATION = Project(
    name="classification",
    config="""<View>
  <Text name="review" value="$review"/>
  <Choices name="sentiment" toName="review" choice="multiple">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
</View>""",
    tasks=[
        task(
            11,
            {"review": "Great product"},
            annotation([region("sentiment", "review", "choices", {"choices": ["Positive"]})]),
        ),
        task(
            12,
            {"review": "Mixed, -5 stars"},
            annotation(
                [region("sentiment", "review", "choices", {"choices": ["Positive", "Negative"]})]
            ),
        ),
        task(13, {"review": "Not yet read"}),
    ],
)

RELATIONS = Project(
    name="relations",
    config="""<View>
  <Relations><Relation value="works_for"/></Relations>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/>
</View>""",
    tasks=[
        task(
            21,
            {"text": "Alice works for Acme."},
            annotation(
                [
                    {"id": "a1", "from_name": "label", "to_name": "text", "type": "labels",
                     "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]}},
                    {"id": "a2", "from_name": "label", "to_name": "text", "type": "labels",
                     "value": {"start": 16, "end": 20, "text": "Acme", "labels": ["ORG"]}},
                    {"from_id": "a1", "to_id": "a2", "type": "relation", "direction": "right",
                     "labels": ["works_for"]},
                ]
            ),
        ),
    ],
)  # fmt: skip

# ------------------------------------------------------------------------------ images

IMAGE_BOXES = Project(
    name="image boxes",
    config="""<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Cat" category="4"/><Label value="Dog"/><Label value="Bird"/>
  </RectangleLabels>
</View>""",
    tasks=[
        task(
            31,
            {"image": "https://images.example.com/pets/cat.jpg"},
            annotation(
                [
                    region("box", "image", "rectanglelabels",
                           {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, "rectanglelabels": ["Cat"]},
                           **sized()),
                    region("box", "image", "rectanglelabels",
                           {"x": 50.5, "y": 50.25, "width": 10, "height": 20, "rotation": 0, "rectanglelabels": ["Dog"]},
                           **sized()),
                ]
            ),
        ),
        task(
            32,
            {"image": "/data/upload/7/1a2b3c4d-dog.png"},
            annotation(
                [region("box", "image", "rectanglelabels",
                        {"x": 0, "y": 0, "width": 100, "height": 100, "rotation": 0, "rectanglelabels": ["Dog"]},
                        **sized(320, 200))]
            ),
        ),
        task(33, {"image": "https://images.example.com/pets/none.png"}),
    ],
)  # fmt: skip

ROTATED_BOXES = Project(
    name="rotated boxes",
    config=IMAGE_BOXES.config,
    tasks=[
        task(
            41,
            {"image": "https://images.example.com/aerial/ship.jpg"},
            annotation(
                [
                    region("box", "image", "rectanglelabels",
                           {"x": 40, "y": 30, "width": 20, "height": 10, "rotation": 30, "rectanglelabels": ["Cat"]},
                           **sized(1000, 800)),
                    region("box", "image", "rectanglelabels",
                           {"x": 70, "y": 60, "width": 15, "height": 25, "rotation": 275.5, "rectanglelabels": ["Bird"]},
                           **sized(1000, 800)),
                ]
            ),
        ),
    ],
)  # fmt: skip

POLYGONS = Project(
    name="polygons",
    config="""<View>
  <Image name="image" value="$image"/>
  <PolygonLabels name="outline" toName="image"><Label value="Road"/><Label value="Field"/></PolygonLabels>
</View>""",
    tasks=[
        task(
            51,
            {"image": "https://images.example.com/maps/tile-1.png"},
            annotation(
                [
                    region("outline", "image", "polygonlabels",
                           {"points": [[10, 10], [50, 10], [30, 60]], "polygonlabels": ["Road"], "closed": True},
                           **sized()),
                    region("outline", "image", "polygonlabels",
                           {"points": [[0, 0], [100, 0], [100, 100], [0, 100]], "polygonlabels": ["Field"]},
                           **sized()),
                ]
            ),
        ),
        task(52, {"image": "https://images.example.com/maps/tile-2.png"}),
    ],
)  # fmt: skip

KEYPOINTS = Project(
    name="keypoints",
    config="""<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="person" toName="image"><Label value="Person"/></RectangleLabels>
  <KeyPointLabels name="joints" toName="image">
    <Label value="nose" model_index="0"/><Label value="left_eye" model_index="1"/><Label value="right_eye" model_index="2"/>
  </KeyPointLabels>
</View>""",
    tasks=[
        task(
            61,
            {"image": "https://images.example.com/people/p1.jpg"},
            annotation(
                [
                    {"id": "box1", "from_name": "person", "to_name": "image", "type": "rectanglelabels",
                     "value": {"x": 20, "y": 10, "width": 40, "height": 80, "rotation": 0, "rectanglelabels": ["Person"]},
                     **sized()},
                    {"id": "k1", "parentID": "box1", "from_name": "joints", "to_name": "image", "type": "keypointlabels",
                     "value": {"x": 40, "y": 20, "width": 0.5, "keypointlabels": ["nose"]}, **sized()},
                    {"id": "k2", "parentID": "box1", "from_name": "joints", "to_name": "image", "type": "keypointlabels",
                     "value": {"x": 35.2, "y": 15.7, "width": 0.5, "keypointlabels": ["right_eye"]}, **sized()},
                ]
            ),
        ),
    ],
)  # fmt: skip


def _mask(height: int, width: int, boxes: list[tuple[int, int, int, int]]) -> list[int]:
    mask = np.zeros((height, width), dtype=np.uint8)
    for top, left, bottom, right in boxes:
        mask[top:bottom, left:right] = 255
    rle: list[int] = mask2rle(mask)
    return rle


BRUSH = Project(
    name="brush",
    config="""<View>
  <Image name="image" value="$image"/>
  <BrushLabels name="mask" toName="image"><Label value="Tumor"/><Label value="Tissue"/></BrushLabels>
</View>""",
    tasks=[
        task(
            71,
            {"image": "https://images.example.com/scans/s1.png"},
            annotation(
                [
                    region("mask", "image", "brushlabels",
                           {"format": "rle", "rle": _mask(60, 80, [(5, 5, 20, 30), (40, 50, 55, 75)]), "brushlabels": ["Tumor"]},
                           **sized(80, 60)),
                    region("mask", "image", "brushlabels",
                           {"format": "rle", "rle": _mask(60, 80, [(10, 10, 50, 70)]), "brushlabels": ["Tissue"]},
                           **sized(80, 60)),
                ],
                completed_by={"id": 3, "email": "ann@example.com", "first_name": "", "last_name": ""},
            ),
        ),
        task(72, {"image": "https://images.example.com/scans/s2.png"}),
    ],
)  # fmt: skip

# ------------------------------------------------------------------------------- audio


def wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


AUDIO = Project(
    name="audio segments with transcriptions",
    config="""<View>
  <Audio name="audio" value="$audio"/>
  <TextArea name="transcription" toName="audio" rows="2" editable="true"/>
  <Labels name="speaker" toName="audio"><Label value="Speaker 1"/><Label value="Speaker 2"/></Labels>
</View>""",
    tasks=[
        task(
            81,
            {"audio": "/data/upload/7/0a0b0c0d-call-1.wav"},
            annotation(
                [
                    region("transcription", "audio", "textarea", {"text": ["hello there, how can I help"]}),
                    region("speaker", "audio", "labels", {"start": 0.2, "end": 1.4, "labels": ["Speaker 1"]}),
                ]
            ),
        ),
        task(
            82,
            {"audio": "/data/upload/7/0a0b0c0e-call-2.wav"},
            annotation([region("transcription", "audio", "textarea", {"text": ["second call"]})]),
        ),
    ],
    media={
        "upload/7/0a0b0c0d-call-1.wav": wav(1.5),
        "upload/7/0a0b0c0e-call-2.wav": wav(0.75),
    },
)  # fmt: skip

# ---------------------------------------------------------------------------- DocLang


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color=(20, 30, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


DOCUMENT = (
    '<doclang xmlns="https://www.doclang.ai/ns/v1"><page number="1">'
    "<title>Invoice 42</title><text>Total: 12 EUR</text></page></doclang>"
)

#: A document whose picture is an uploaded file: archived under `assets/`, the uri rewritten.
DOCUMENT_WITH_ASSET = DOCUMENT.replace(
    "<text>Total",
    '<picture><src uri="/data/upload/7/0f0f0f12-logo.png"/></picture><text>Total',
)

DOCLANG = Project(
    name="doclang documents",
    config="""<View>
  <Image name="page" value="$image"/>
  <TextArea name="document" toName="page"/>
</View>""",
    tasks=[
        task(
            91,
            {"image": "/data/upload/7/0f0f0f0f-invoice.png"},
            annotation([region("document", "page", "textarea", {"text": [DOCUMENT_WITH_ASSET]})]),
        ),
        task(
            92,
            {"image": "/data/upload/7/0f0f0f10-plain.png", "doclang": DOCUMENT.replace("42", "43")},
            annotation([region("document", "page", "textarea", {"text": ["just a note"]})]),
        ),
        task(93, {"image": "/data/upload/7/0f0f0f11-empty.png"}),
    ],
    media={
        "upload/7/0f0f0f0f-invoice.png": png(40, 50),
        "upload/7/0f0f0f10-plain.png": png(30, 20),
        "upload/7/0f0f0f12-logo.png": png(8, 8),
    },
)  # fmt: skip

CORPUS = [
    NER,
    CLASSIFICATION,
    RELATIONS,
    IMAGE_BOXES,
    ROTATED_BOXES,
    POLYGONS,
    KEYPOINTS,
    BRUSH,
    AUDIO,
    DOCLANG,
]
