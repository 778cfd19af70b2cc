"""Renders the route table for the edges that cannot import Python.

`deploy/nginx/routes.conf` and `helm/labelops/files/routes.json` are made from this by
`make routes`, and `make routes-check` fails when they differ from the table.
"""

from __future__ import annotations

import json

from labelops_runtime.routes import ROUTES


def render_routes(fmt: str) -> str:
    if fmt == "json":
        return (
            json.dumps(
                [
                    {
                        "service": route.service,
                        "regex": route.nginx_regex,
                        "note": route.note,
                        "maxBodyMib": route.max_body_mib,
                    }
                    for route in ROUTES
                ],
                indent=2,
            )
            + "\n"
        )
    if fmt == "nginx":
        lines = ["# Generated from labelops_runtime/routes.py by `make routes`; do not edit."]
        for route in ROUTES:
            upstream = route.service.replace("-", "_")
            if route.note:
                lines.append(f"# {route.note}")
            lines.append(f"location ~ {route.nginx_regex} {{")
            lines.append(f"    client_max_body_size {route.max_body_mib}m;")
            lines.append(f"    proxy_pass http://{upstream};")
            # Relative to nginx's configuration directory (deploy/nginx/nginx.conf.template).
            lines.append("    include labelops/proxy.conf;")
            lines.append("}")
        return "\n".join(lines) + "\n"
    width = max(len(route.service) for route in ROUTES)
    return "".join(f"{route.service.ljust(width)}  {route.nginx_regex}\n" for route in ROUTES)
