"""The labeling-config parser and validators shared by every service."""

from labelops_common.labelconfig.data import (
    substitute_undefined_key,
    validate_result,
    validate_task_data,
)
from labelops_common.labelconfig.parser import (
    ControlTag,
    LabelConfig,
    LabelConfigError,
    ObjectTag,
    parse_label_config,
)

__all__ = [
    "ControlTag",
    "LabelConfig",
    "LabelConfigError",
    "ObjectTag",
    "parse_label_config",
    "substitute_undefined_key",
    "validate_result",
    "validate_task_data",
]
