"""Loads a helper file by path under a fixed module name, so every conftest gets one copy.

Tests run with `--import-mode=importlib`, where two conftest files importing the same
helper would each get their own module (and start their own processes).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def edge_module() -> ModuleType:
    return load("labelops_edge_renderer", REPO / "scripts" / "edge.py")


def monitoring_module() -> ModuleType:
    return load("labelops_monitoring_script", REPO / "scripts" / "monitoring.py")
