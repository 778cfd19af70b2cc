"""Renders the route table into the files the edges read; `check` fails if they are stale.

python scripts/routes.py generate|check
"""

from __future__ import annotations

import sys
from pathlib import Path

from labelops_runtime.render import render_routes

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = {
    ROOT / "deploy" / "nginx" / "routes.conf": "nginx",
    # The compose edge's copy (the rest of deploy/compose/edge/ is `scripts/edge.py generate`'s).
    ROOT / "deploy" / "compose" / "edge" / "labelops" / "routes.conf": "nginx",
    ROOT / "helm" / "labelops" / "files" / "routes.json": "json",
}


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    stale = []
    for path, fmt in OUTPUTS.items():
        rendered = render_routes(fmt)
        if command == "generate":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(rendered)
        elif not path.exists() or path.read_text() != rendered:
            stale.append(str(path.relative_to(ROOT)))
    if stale:
        print("stale rendered routes (run `make routes`):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
