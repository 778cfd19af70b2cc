"""Renders the route table and the security headers into the files the edges read; `check`
fails if they are stale.

python scripts/routes.py generate|check
"""

from __future__ import annotations

import sys
from pathlib import Path

from labelops_runtime.render import render_routes
from labelops_runtime.security_headers import render_security_headers

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = {
    ROOT / "deploy" / "nginx" / "routes.conf": "nginx",
    # The compose edge's copy (the rest of deploy/compose/edge/ is `scripts/edge.py generate`'s).
    ROOT / "deploy" / "compose" / "edge" / "labelops" / "routes.conf": "nginx",
    ROOT / "helm" / "labelops" / "files" / "routes.json": "json",
}
#: The security headers (labelops_runtime/security_headers.py) for the chart and the web image.
HEADER_OUTPUTS = {
    ROOT / "helm" / "labelops" / "files" / "security-headers.json": "json",
    ROOT / "deploy" / "image" / "web-security-headers.conf": "nginx",
}


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    stale = []
    renders = [(path, render_routes(fmt)) for path, fmt in OUTPUTS.items()]
    renders += [(path, render_security_headers(fmt)) for path, fmt in HEADER_OUTPUTS.items()]
    for path, rendered in renders:
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
