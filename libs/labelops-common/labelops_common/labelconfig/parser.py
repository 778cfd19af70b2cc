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

from labelops_common.labelconfig.tags import (
    CONTROL_TAGS,
    CONTROLS_WITHOUT_TO_NAME,
    HTML_TAGS,
    OBJECT_TAGS,
    VISUAL_TAGS,
)

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
    """Parse and validate; raises `LabelConfigError` listing every problem found."""
    root = _parse_xml(text)
    if root.tag != "View":
        raise LabelConfigError([f"The root tag must be <View>, not <{root.tag}>."])
    errors: list[str] = []
    tags = _Tags()
    for element in _walk(root, 0, errors):
        tags.add(element, errors)
    controls: dict[str, ControlTag] = {}
    for element in tags.control_elements:
        name = element.get("name", "")
        if name not in tags.names or tags.names[name] is not element:
            continue
        controls[name] = _control(element, tags, errors)
    if errors:
        raise LabelConfigError(errors)
    return LabelConfig(controls=controls, objects=tags.objects, data_keys=tags.data_keys)


@dataclass
class _Tags:
    """The named tags of a config as the first pass meets them, in document order."""

    names: dict[str, ET.Element] = field(default_factory=dict)
    objects: dict[str, ObjectTag] = field(default_factory=dict)
    control_elements: list[ET.Element] = field(default_factory=list)
    data_keys: list[str] = field(default_factory=list)

    def add_data_key(self, key: str) -> None:
        if key not in self.data_keys:
            self.data_keys.append(key)

    def add(self, element: ET.Element, errors: list[str]) -> None:
        """Check one element's tag and name; keep object tags whole, control tags for later."""
        tag = element.tag
        if tag not in OBJECT_TAGS | CONTROL_TAGS | VISUAL_TAGS | HTML_TAGS:
            errors.append(f"Unknown tag <{tag}>.")
            return
        if tag in OBJECT_TAGS or tag in CONTROL_TAGS:
            name = element.get("name")
            if not name:
                errors.append(f"<{tag}> needs a name attribute.")
                return
            if name in self.names:
                errors.append(f'The name "{name}" is used by more than one tag.')
                return
            self.names[name] = element
        if tag in OBJECT_TAGS and tag not in CONTROL_TAGS:
            value = element.get("value") or element.get("valueList") or ""
            if not value:
                errors.append(f"{_describe(element)} needs a value attribute.")
                return
            match = _VARIABLE.match(value.strip())
            key = match.group(1) if match else None
            if key:
                self.add_data_key(key)
            self.objects[element.get("name", "")] = ObjectTag(
                name=element.get("name", ""), tag=tag, value=value, data_key=key
            )
        elif tag in CONTROL_TAGS:
            self.control_elements.append(element)


def _control(element: ET.Element, tags: _Tags, errors: list[str]) -> ControlTag:
    """A control tag with its targets checked against the named tags and its labels read."""
    to_name_attr = element.get("toName", "")
    to_names = tuple(part.strip() for part in to_name_attr.split(",") if part.strip())
    if not to_names and element.tag not in CONTROLS_WITHOUT_TO_NAME:
        errors.append(f"{_describe(element)} needs a toName attribute.")
    for target in to_names:
        if target not in tags.names:
            errors.append(f'{_describe(element)}: toName "{target}" names no tag.')
        elif target not in tags.objects and tags.names[target].tag not in OBJECT_TAGS:
            errors.append(f'{_describe(element)}: toName "{target}" is not an object tag.')
    labels, labels_attrs = _labels(element, errors)
    value = element.get("value", "")
    dynamic = _VARIABLE.match(value.strip()) if value else None
    if dynamic:
        tags.add_data_key(dynamic.group(1))
    return ControlTag(
        name=element.get("name", ""),
        tag=element.tag,
        type=element.tag.lower(),
        to_names=to_names,
        labels=tuple(labels),
        per_region=element.get("perRegion", "").lower() == "true",
        attrs=dict(element.attrib),
        labels_attrs=labels_attrs,
    )


def _labels(element: ET.Element, errors: list[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The control's <Label>/<Choice> values in order, each with its attributes."""
    labels: list[str] = []
    labels_attrs: dict[str, dict[str, str]] = {}
    for child in element.iter():
        if child is element or child.tag not in {"Label", "Choice"}:
            continue
        label = child.get("value") or child.get("alias")
        if not label:
            errors.append(f"{_describe(element)}: <{child.tag}> needs a value attribute.")
            continue
        if label in labels:
            errors.append(f'{_describe(element)}: the label "{label}" appears twice.')
            continue
        labels.append(label)
        labels_attrs[label] = dict(child.attrib)
    return labels, labels_attrs
