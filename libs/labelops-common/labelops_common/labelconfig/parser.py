"""Parses a labeling config safely and checks it the way Label Studio does, and more.

The XML goes through defusedxml with DTDs, entities and external references forbidden,
so billion-laughs, quadratic blow-up and XXE configs are refused before anything expands.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from labelops_common.labelconfig.tags import CONTROL_TAGS, OBJECT_TAGS

MAX_CONFIG_BYTES = 512 * 1024
MAX_DEPTH = 100
_VARIABLE = re.compile(r"\$([A-Za-z_][\w.\-]*)")


class LabelConfigError(ValueError):
    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))


@dataclass(frozen=True)
class ObjectTag:
    name: str
    tag: str
    value: str
    data_key: str | None


@dataclass(frozen=True)
class ControlTag:
    name: str
    tag: str
    type: str
    to_names: tuple[str, ...]
    labels: tuple[str, ...]
    per_region: bool
    attrs: dict[str, str] = field(default_factory=dict)
    labels_attrs: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def has_dynamic_labels(self) -> bool:
        return (
            self.attrs.get("value", "").startswith("$")
            or self.attrs.get("allowCustomLabels", "").lower() == "true"
        )


@dataclass(frozen=True)
class LabelConfig:
    controls: dict[str, ControlTag]
    objects: dict[str, ObjectTag]
    data_keys: list[str]

    def parsed_label_config(self) -> dict[str, Any]:
        """Label Studio's `parsed_label_config`: one entry per control tag."""
        parsed: dict[str, Any] = {}
        for name, control in self.controls.items():
            if not control.to_names:
                continue
            parsed[name] = {
                "type": control.tag,
                "to_name": list(control.to_names),
                "inputs": [
                    {"type": self.objects[target].tag, "value": self.objects[target].data_key or ""}
                    for target in control.to_names
                    if target in self.objects
                ],
                "labels": list(control.labels),
                "labels_attrs": control.labels_attrs,
            }
        return parsed

    @property
    def config_has_control_tags(self) -> bool:
        return bool(self.controls)


def _describe(element: ET.Element) -> str:
    name = element.get("name")
    return f'<{element.tag} name="{name}">' if name else f"<{element.tag}>"


def _walk(element: ET.Element, depth: int, errors: list[str]) -> list[ET.Element]:
    if depth > MAX_DEPTH:
        raise LabelConfigError([f"The config nests deeper than {MAX_DEPTH} elements."])
    found = [element]
    for child in element:
        found.extend(_walk(child, depth + 1, errors))
    return found


def _parse_xml(text: str) -> ET.Element:
    if len(text.encode("utf-8", errors="ignore")) > MAX_CONFIG_BYTES:
        raise LabelConfigError([f"The config is larger than {MAX_CONFIG_BYTES // 1024} KiB."])
    if not text.strip():
        raise LabelConfigError(["The config is empty."])
    try:
        root: ET.Element = fromstring(
            text, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise LabelConfigError(
            ["The config must not contain a DTD, entity declarations or external references."]
        ) from None
    except ET.ParseError as exc:
        raise LabelConfigError([f"The config is not well-formed XML: {exc}"]) from None
    return root


def parse_label_config(text: str) -> LabelConfig:
    """Parse and validate; raises `LabelConfigError` listing every problem found.

    The rules are Label Studio's (`validate_label_config` and its `parse_config`), so a
    config it accepts is accepted here and one it refuses is refused:

    - the tags right under a `<View>` (and under a `<View>` in it, and so on) that its
      schema knows are checked: `<Choices>` and `<Labels>` need `name`, `toName` and
      `<Choice>`/`<Label>` children with a `value` (or a `value` of their own, or a
      `<View>`); `<Image>`, `<Text>` and `<HyperText>` need `name` and `value` (or
      `valueList`); `<TextArea>` and `<Number>` need `name` and `toName`;
    - no two tags share a `name`, and every `toName` names a tag;
    - any other tag is accepted: a named tag with a `toName` is a control (whatever its
      tag, `<OcrLabels>` included), a named tag with a `value` holds data. A control a
      config leaves without `toName` (a `<Rating>` in a chat layout) is kept, so its
      results can be read, but is not in `parsed_label_config`, as in Label Studio;
    - a label value given twice is one label (Label Studio keeps the first place).

    The XML itself is parsed safely (no DTD, entities or external references) and limited
    in size and depth.
    """
    root = _parse_xml(text)
    errors: list[str] = []
    elements = _walk(root, 0, errors)
    if root.tag == "View":
        _check_schema(root, errors)
    names: dict[str, ET.Element] = {}
    for element in elements:
        name = element.get("name")
        if name is None:
            continue
        if name in names:
            errors.append(f'The name "{name}" is used by more than one tag.')
        else:
            names[name] = element
    for element in elements:
        if "toName" not in element.attrib:
            continue
        # Split as Label Studio splits: "a, b" names " b", which no tag is called.
        for target in element.attrib["toName"].split(","):
            if target not in names:
                errors.append(f'{_describe(element)}: toName "{target}" names no tag.')
    if errors:
        raise LabelConfigError(errors)
    tags = _Tags()
    for element in elements:
        tags.add(element)
    controls = {
        element.get("name", ""): _control(element, tags) for element in tags.control_elements
    }
    return LabelConfig(controls=controls, objects=tags.objects, data_keys=tags.data_keys)


#: What Label Studio's config schema asks of the tags it knows, right under a `<View>`.
_NEEDS_NAME_AND_TO_NAME = frozenset({"Choices", "Labels", "TextArea", "Number"})
_NEEDS_NAME_AND_VALUE = frozenset({"Image", "Text", "HyperText"})
_LABEL_CHILD = {"Choices": "Choice", "Labels": "Label"}


def _check_schema(view: ET.Element, errors: list[str]) -> None:
    """Label Studio's JSON schema: it reaches the children of a root `<View>`, and of each
    `<View>` among them (or inside a `<Choices>`/`<Labels>`), and no further."""
    for child in view:
        _check_known_tag(child, errors)
        if child.tag == "View":
            _check_schema(child, errors)


def _check_known_tag(child: ET.Element, errors: list[str]) -> None:
    tag = child.tag
    if tag in _NEEDS_NAME_AND_TO_NAME | _NEEDS_NAME_AND_VALUE and child.get("name") is None:
        errors.append(f"<{tag}> needs a name attribute.")
    if tag in _NEEDS_NAME_AND_TO_NAME and child.get("toName") is None:
        errors.append(f"{_describe(child)} needs a toName attribute.")
    if (
        tag in _NEEDS_NAME_AND_VALUE
        and child.get("value") is None
        and child.get("valueList") is None
    ):
        errors.append(f"{_describe(child)} needs a value attribute.")
    if tag in ("Label", "Choice") and child.get("value") is None:
        errors.append(f"<{tag}> needs a value attribute.")
    if tag in _LABEL_CHILD:
        label_tag = _LABEL_CHILD[tag]
        options = [grand for grand in child if grand.tag == label_tag]
        views = [grand for grand in child if grand.tag == "View"]
        if not options and child.get("value") is None and not views:
            errors.append(f"{_describe(child)} needs <{label_tag}> tags or a value.")
        for option in options:
            if option.get("value") is None:
                errors.append(f"{_describe(child)}: <{label_tag}> needs a value attribute.")
        for nested in views:
            _check_schema(nested, errors)


def _to_names(element: ET.Element) -> list[str]:
    return [part.strip() for part in element.get("toName", "").split(",") if part.strip()]


def _is_control(element: ET.Element) -> bool:
    """Label Studio's output tag: a name and a toName (a `<Filter>` is not one)."""
    return bool(element.get("name")) and bool(element.get("toName")) and element.tag != "Filter"


@dataclass
class _Tags:
    """The named tags of a config as Label Studio sorts them, in document order."""

    objects: dict[str, ObjectTag] = field(default_factory=dict)
    control_elements: list[ET.Element] = field(default_factory=list)
    data_keys: list[str] = field(default_factory=list)

    def add_data_key(self, key: str) -> None:
        if key not in self.data_keys:
            self.data_keys.append(key)

    def add(self, element: ET.Element) -> None:
        tag = element.tag
        name = element.get("name")
        if not name:
            return
        if _is_control(element) or (tag in CONTROL_TAGS and tag not in OBJECT_TAGS):
            self.control_elements.append(element)
            return
        value = element.get("value") or element.get("valueList") or ""
        if not value:
            return
        match = _VARIABLE.match(value.strip())
        key = match.group(1) if match else None
        if key:
            self.add_data_key(key)
        self.objects[name] = ObjectTag(name=name, tag=tag, value=value, data_key=key)


def _control(element: ET.Element, tags: _Tags) -> ControlTag:
    """A control tag with its labels read (its targets are checked already)."""
    labels, labels_attrs = _labels(element)
    value = element.get("value", "")
    dynamic = _VARIABLE.match(value.strip()) if value else None
    if dynamic:
        tags.add_data_key(dynamic.group(1))
    return ControlTag(
        name=element.get("name", ""),
        tag=element.tag,
        type=element.tag.lower(),
        to_names=tuple(_to_names(element)),
        labels=tuple(labels),
        per_region=element.get("perRegion", "").lower() == "true",
        attrs=dict(element.attrib),
        labels_attrs=labels_attrs,
    )


def _labels(element: ET.Element) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The control's <Label>/<Choice> values in order (`alias` first, as Label Studio
    reads them), each with its attributes; one nested in another control is that one's."""
    labels: list[str] = []
    labels_attrs: dict[str, dict[str, str]] = {}

    def visit(parent: ET.Element) -> None:
        for child in parent:
            if child.tag in {"Label", "Choice"}:
                label = child.get("alias") or child.get("value")
                if label and label not in labels_attrs:
                    labels.append(label)
                if label:
                    labels_attrs.setdefault(label, dict(child.attrib))
            if not _is_control(child):
                visit(child)

    visit(element)
    return labels, labels_attrs
