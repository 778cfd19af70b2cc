"""Checks task data and result regions against a parsed config."""

from __future__ import annotations

from typing import Any

from labelops_common.labelconfig.parser import LabelConfig
from labelops_common.labelconfig.tags import DATA_TYPES, LABELED_CONTROL_TAGS

UNDEFINED_KEY = "$undefined$"
_MISSING = object()


def _lookup(data: dict[str, Any], key: str) -> Any:
    if key in data:
        return data[key]
    current: Any = data
    for part in key.split("."):
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def substitute_undefined_key(config: LabelConfig, data: dict[str, Any]) -> dict[str, Any]:
    """Label Studio's `$undefined$` placeholder becomes the config's only data key."""
    if UNDEFINED_KEY not in data or len(config.objects) != 1 or len(config.data_keys) != 1:
        return data
    result = dict(data)
    result[config.data_keys[0]] = result.pop(UNDEFINED_KEY)
    return result


def validate_task_data(config: LabelConfig, data: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    for obj in config.objects.values():
        if obj.data_key is None:
            continue
        value = _lookup(data, obj.data_key)
        if value is _MISSING:
            errors.append(f'"{obj.data_key}" key is expected in task data')
            continue
        allowed = DATA_TYPES.get(obj.tag)
        if allowed and not isinstance(value, allowed):
            kinds = ", ".join(t.__name__ for t in allowed)
            errors.append(f'"{obj.data_key}" must be one of {kinds} for <{obj.tag}>')
    return errors


def validate_result(config: LabelConfig, result: list[Any]) -> list[str]:
    """Every region must name a control and one of its objects, with labels it defines."""
    errors: list[str] = []
    if not isinstance(result, list):
        return ["result: must be a list of regions"]
    for index, region in enumerate(result):
        where = f"result[{index}]"
        if not isinstance(region, dict):
            errors.append(f"{where}: must be an object")
            continue
        if region.get("type") == "relation":
            if "from_id" not in region or "to_id" not in region:
                errors.append(f"{where}: a relation needs from_id and to_id")
            continue
        control = config.controls.get(str(region.get("from_name")))
        if control is None:
            errors.append(f'{where}.from_name: "{region.get("from_name")}" is not a control tag')
            continue
        if control.to_names and region.get("to_name") not in control.to_names:
            errors.append(
                f'{where}.to_name: "{region.get("to_name")}" is not a target of <{control.tag} name="{control.name}">'
            )
        if region.get("type") != control.type:
            errors.append(f'{where}.type: expected "{control.type}"')
        value = region.get("value")
        if not isinstance(value, dict):
            errors.append(f"{where}.value: must be an object")
            continue
        if control.tag in LABELED_CONTROL_TAGS and control.tag != "Taxonomy":
            chosen = value.get(control.type, [])
            if not isinstance(chosen, list):
                errors.append(f"{where}.value.{control.type}: must be a list")
            elif not control.has_dynamic_labels:
                for label in chosen:
                    if label not in control.labels:
                        errors.append(
                            f'{where}.value.{control.type}: label "{label}" is not in <{control.tag} name="{control.name}">'
                        )
    return errors
