"""The validator against real configs: every template of Label Studio's gallery is
accepted and parsed as the official SDK's `parse_config` parses it; and the configs Label
Studio refuses are refused, for Label Studio's reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from label_studio_sdk._extensions.label_studio_tools.core.label_config import parse_config
from labelops_common.labelconfig import LabelConfigError, parse_label_config, validate_result

CORPUS = Path(__file__).parent / "corpus" / "label-studio-1.23.2"
GALLERY = sorted(CORPUS.glob("*.xml"))


def test_the_corpus_is_the_whole_gallery() -> None:
    assert len(GALLERY) == 69
    names = {path.stem for path in GALLERY}
    # The three Label Studio accepts that LabelOps used to refuse.
    assert {
        "computer-vision--pdf_ocr",  # <OcrLabels>
        "generative-ai--chatbot-assessment",  # <Rating> without toName
        "ranking-and-scoring--document-retrieval",  # a <Choice> value given twice
    } <= names


def _shape(parsed: dict[str, Any]) -> dict[str, Any]:
    return {
        name: (
            control["type"],
            control["to_name"],
            control["labels"],
            [
                (item["type"], item.get("value", item.get("valueList")))
                for item in control["inputs"]
            ],
        )
        for name, control in parsed.items()
    }


@pytest.mark.parametrize("path", GALLERY, ids=[path.stem for path in GALLERY])
def test_every_gallery_config_is_accepted_and_parsed_as_label_studio_does(path: Path) -> None:
    text = path.read_text()
    config = parse_label_config(text)
    assert _shape(config.parsed_label_config()) == _shape(parse_config(text))


def test_a_control_without_to_name_still_reads_its_results() -> None:
    config = parse_label_config((CORPUS / "generative-ai--chatbot-assessment.xml").read_text())
    assert "likert_scale" in config.controls
    assert "likert_scale" not in config.parsed_label_config()
    region = {
        "from_name": "likert_scale",
        "to_name": "chat",
        "type": "rating",
        "value": {"rating": 4},
    }
    assert validate_result(config, [region]) == []


def test_a_repeated_label_is_one_label_in_its_first_place() -> None:
    config = parse_label_config(
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t">'
        '<Choice value="A" hint="first"/><Choice value="B"/><Choice value="A"/></Choices></View>'
    )
    assert config.controls["c"].labels == ("A", "B")


#: Configs Label Studio 1.23 refuses (its schema, its unique-name and toName checks), each
#: with the words our reason carries.
REFUSED: dict[str, tuple[str, str]] = {
    "two tags, one name": (
        '<View><Text name="t" value="$a"/><Image name="t" value="$b"/></View>',
        'name "t" is used by more than one tag',
    ),
    "a toName that names nothing": (
        '<View><Text name="t" value="$t"/><Rating name="r" toName="nope"/></View>',
        'toName "nope" names no tag',
    ),
    "a toName list with a space": (
        '<View><Text name="a" value="$a"/><Text name="b" value="$b"/>'
        '<TextArea name="x" toName="a, b"/></View>',
        'toName " b" names no tag',
    ),
    "Choices without toName": (
        '<View><Text name="t" value="$t"/><Choices name="c"><Choice value="x"/></Choices></View>',
        "needs a toName",
    ),
    "Labels without name": (
        '<View><Text name="t" value="$t"/><Labels toName="t"><Label value="x"/></Labels></View>',
        "<Labels> needs a name",
    ),
    "Choices without choices": (
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t"/></View>',
        "needs <Choice> tags or a value",
    ),
    "a Label without value": (
        '<View><Text name="t" value="$t"/><Labels name="l" toName="t"><Label alias="x"/></Labels>'
        "</View>",
        "<Label> needs a value",
    ),
    "Image without value": ('<View><Image name="img"/></View>', "needs a value"),
    "Text without name, in a nested View": (
        '<View><View><Text value="$t"/></View></View>',
        "<Text> needs a name",
    ),
    "TextArea without toName": (
        '<View><Text name="t" value="$t"/><TextArea name="x"/></View>',
        "needs a toName",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_label_studio_refuses_is_refused(name: str) -> None:
    text, reason = REFUSED[name]
    with pytest.raises(LabelConfigError) as caught:
        parse_label_config(text)
    assert reason in str(caught.value)


#: Accepted by Label Studio though odd: the schema reaches only `<View>` children.
ACCEPTED = {
    "an unknown tag": '<View><Text name="t" value="$t"/><Blink name="b" toName="t"/></View>',
    "a toName naming a control": (
        '<View><Text name="t" value="$t"/><Choices name="a" toName="t"><Choice value="x"/>'
        '</Choices><Choices name="b" toName="a"><Choice value="y"/></Choices></View>'
    ),
    "a control nested in HTML is not schema-checked": (
        '<View><Text name="t" value="$t"/><div><Choices name="c" toName="t"/></div></View>'
    ),
    "a root other than View": '<Text name="t" value="$t"/>',
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_what_label_studio_accepts_is_accepted(name: str) -> None:
    text = ACCEPTED[name]
    parse_label_config(text)
    parse_config(text)  # and the SDK reads it too
