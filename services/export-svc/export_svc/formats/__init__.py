"""The catalogue of export formats.

Each public module of this package defines one or more `ExportFormat`s and registers them
with `register`; the package imports every such module on first use, so adding a format
is adding one file. Modules whose names start with `_` are shared helpers.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from typing import Any

from export_svc.formats._base import ConfigShape, ExportContext, ExportFormat, Record

__all__ = [
    "ConfigShape",
    "ExportContext",
    "ExportFormat",
    "Record",
    "catalogue",
    "describe_formats",
    "find_format",
    "register",
]

_FORMATS: dict[str, ExportFormat] = {}
_loaded = False
_lock = threading.Lock()


def register(export_format: ExportFormat) -> ExportFormat:
    if export_format.name in _FORMATS:
        raise ValueError(f"export format {export_format.name} is registered twice")
    _FORMATS[export_format.name] = export_format
    return export_format


def _load() -> None:
    global _loaded
    with _lock:
        if _loaded:
            return
        for module in pkgutil.iter_modules(__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True


def catalogue() -> list[ExportFormat]:
    """Every format, in Label Studio's order."""
    _load()
    return sorted(_FORMATS.values(), key=lambda item: item.order)


def find_format(name: str) -> ExportFormat | None:
    _load()
    return _FORMATS.get(name)


def describe_formats(shape: ConfigShape) -> list[dict[str, Any]]:
    """`/export/formats`: every listed format, those that fit the config first (Label Studio's
    shape); a legacy alias such as `CSV_OLD` is accepted but not listed, as there."""
    entries = [item.describe(shape) for item in catalogue() if item.listed]
    return sorted(entries, key=lambda entry: bool(entry.get("disabled")))
