"""What the classifier needs from a project's labeling config: one `<Choices>` tag that labels
a `<Text>` (or `<HyperText>`) tag, the task field that text comes from, and the choices."""

from __future__ import annotations

from dataclasses import dataclass

from defusedxml import ElementTree

TEXT_TAGS = {"Text", "HyperText", "Paragraphs"}


class UnsupportedConfig(ValueError):
    """The labeling config has nothing this model can predict."""


@dataclass(frozen=True)
class ClassificationTarget:
    from_name: str
    to_name: str
    data_field: str
    choices: tuple[str, ...]


def classification_target(label_config: str) -> ClassificationTarget:
    """The first `<Choices>` whose `toName` is a text tag reading a `$field` of the task."""
    try:
        root = ElementTree.fromstring(label_config)
    except ElementTree.ParseError as error:
        raise UnsupportedConfig(f"the labeling config is not XML: {error}") from error
    text_fields = {
        tag.get("name"): tag.get("value", "").lstrip("$")
        for tag in root.iter()
        if tag.tag in TEXT_TAGS and tag.get("name") and tag.get("value", "").startswith("$")
    }
    for tag in root.iter("Choices"):
        to_name = tag.get("toName", "")
        if tag.get("name") and to_name in text_fields:
            choices = tuple(
                choice.get("alias") or choice.get("value", "")
                for choice in tag.iter("Choice")
                if choice.get("alias") or choice.get("value")
            )
            if choices:
                return ClassificationTarget(
                    from_name=tag.get("name", ""),
                    to_name=to_name,
                    data_field=text_fields[to_name],
                    choices=choices,
                )
    raise UnsupportedConfig(
        "the labeling config has no <Choices> with <Choice> values for a <Text> tag"
    )
