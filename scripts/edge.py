"""Renders the nginx edge (deploy/nginx/) for one install: origins, names, certificates, upstreams.

    python scripts/edge.py render --out /etc/nginx --server-name labels.example.com \\
        --allow-origin https://app.example.com --upstreams-at 127.0.0.1:8080 ...
    python scripts/edge.py generate|check    # the compose edge in deploy/compose/edge/

The CORS policy is the chart's: `--values helm/labelops/values-production.yaml` takes the
allow-list from `edge.cors.allowOrigins`, and the methods, headers, credentials and
max-age below equal the chart's `edge.cors` defaults (a test compares them). Paths that need more than the API defaults (streamed
1 GiB imports, long unbuffered downloads) get their own locations here, each sent to the
service the route table names for it, so the edge cannot route them elsewhere.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from labelops_common.settings import SERVICE_NAMES
from labelops_runtime.render import render_routes
from labelops_runtime.routes import API_MAX_BODY_MIB, UPLOAD_MAX_BODY_MIB, service_for_path
from labelops_runtime.security_headers import API_CSP, COMMON_HEADERS, PAGE_CSP

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = ROOT / "deploy" / "nginx"
COMPOSE_EDGE_DIR = ROOT / "deploy" / "compose" / "edge"

#: The CORS policy the chart's ingress uses too (values `edge.cors` in helm/labelops).
CORS_ALLOW_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "X-CSRFToken", "X-Requested-With")
CORS_EXPOSE_HEADERS = ("Content-Disposition",)
CORS_MAX_AGE_SECONDS = 600

#: Where an origin may only be scheme://host[:port], nothing more.
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


@dataclass(frozen=True)
class SpecialLocation:
    """A path class with its own limits; `sample` proves which service the table gives it."""

    regex: str
    sample: str
    directives: tuple[str, ...]


def _import_directives(max_body: str) -> tuple[str, ...]:
    return (
        f"client_max_body_size {max_body};",
        # Stream the body to the service (which spools it itself) instead of nginx first.
        "proxy_request_buffering off;",
        "proxy_send_timeout 900s;",
        "proxy_read_timeout 900s;",
    )


DOWNLOAD_DIRECTIVES = (
    # Exports and media stream for as long as they take, without nginx spooling them.
    "proxy_buffering off;",
    "proxy_read_timeout 3600s;",
    "proxy_send_timeout 3600s;",
)


def special_locations(import_max_body_size: str) -> tuple[SpecialLocation, ...]:
    imports = _import_directives(import_max_body_size)
    return (
        SpecialLocation(
            r"^/api/projects/[0-9]+/(import|reimport)(/|$)", "/api/projects/999999/import", imports
        ),
        SpecialLocation(r"^/api/import(/|$)", "/api/import/file-upload/999999", imports),
        SpecialLocation(
            r"^/api/projects/[0-9]+/(export|exports)(/|$)",
            "/api/projects/999999/exports/1/download",
            DOWNLOAD_DIRECTIVES,
        ),
        SpecialLocation(
            r"^/data/upload(/|$)", "/data/upload/999999/tasks.json", DOWNLOAD_DIRECTIVES
        ),
        SpecialLocation(
            r"^/storage-data/uploaded(/|$)", "/storage-data/uploaded", DOWNLOAD_DIRECTIVES
        ),
        SpecialLocation(r"^/data/local-files(/|$)", "/data/local-files", DOWNLOAD_DIRECTIVES),
    )


@dataclass
class EdgeSettings:
    server_name: str = "localhost"
    #: host[:port] HTTP is redirected to.
    public_authority: str = "localhost"
    allowed_origins: list[str] = field(default_factory=list)
    #: service name → host:port of its HTTP listener.
    upstreams: dict[str, str] = field(default_factory=dict)
    tls_certificate: str = "/etc/nginx/tls/tls.crt"
    tls_certificate_key: str = "/etc/nginx/tls/tls.key"
    web_root: str = "/usr/share/labelops/web"
    http_listen: str = "80"
    https_listen: str = "443"
    api_max_body_size: str = f"{API_MAX_BODY_MIB}m"
    import_max_body_size: str = f"{UPLOAD_MAX_BODY_MIB}m"
    temp_dir: str = "/var/cache/nginx"
    pid_file: str = "/run/nginx.pid"
    error_log: str = "/dev/stderr"
    access_log: str = "/dev/stdout"
    #: `user` directive, only for a master started as root (tests); empty otherwise.
    user: str = ""


def _check(settings: EdgeSettings) -> None:
    for origin in settings.allowed_origins:
        if not ORIGIN.match(origin):
            raise ValueError(f"allowed origin {origin!r} must be scheme://host[:port]")
    missing = sorted(set(SERVICE_NAMES) - set(settings.upstreams))
    if missing:
        raise ValueError(f"no upstream address for {', '.join(missing)}")
    for name, value in vars(settings).items():
        if isinstance(value, str) and re.search(r"[;{}\s'\"]", value) and name != "user":
            raise ValueError(f"{name} must not contain spaces, quotes, braces or ';'")


def _upstream_name(service: str) -> str:
    return service.replace("-", "_")


def _render_special_locations(settings: EdgeSettings) -> str:
    blocks = []
    for location in special_locations(settings.import_max_body_size):
        if not re.match(location.regex, location.sample):
            raise ValueError(f"{location.sample} does not match {location.regex}")
        service = service_for_path(location.sample)
        if service is None:
            raise ValueError(f"the route table does not route {location.sample}")
        body = "\n".join(f"            {line}" for line in location.directives)
        blocks.append(
            f"        location ~ {location.regex} {{\n{body}\n"
            f"            proxy_pass http://{_upstream_name(service)};\n"
            "            include labelops/proxy.conf;\n"
            "        }\n"
        )
    return "".join(blocks)


def render_edge(settings: EdgeSettings) -> dict[str, str]:
    """The edge's files, by path relative to nginx's configuration directory."""
    _check(settings)
    upstreams = "".join(
        f"    upstream {_upstream_name(service)} {{\n"
        f"        server {settings.upstreams[service]};\n"
        "        keepalive 16;\n"
        "    }\n"
        for service in SERVICE_NAMES
    )
    origins = "".join(
        f'        "{origin}" $http_origin;\n' for origin in sorted(set(settings.allowed_origins))
    )
    values: dict[str, Any] = {
        **{key: value for key, value in vars(settings).items() if isinstance(value, str)},
        "user_directive": f"user {settings.user};\n" if settings.user else "",
        "origin_entries": origins,
        "upstreams": upstreams,
        "special_locations": _render_special_locations(settings),
        "cors_allow_methods": ", ".join(CORS_ALLOW_METHODS),
        "cors_allow_headers": ", ".join(CORS_ALLOW_HEADERS),
        "cors_expose_headers": ", ".join(CORS_EXPOSE_HEADERS),
        "cors_max_age": str(CORS_MAX_AGE_SECONDS),
        "security_headers": "".join(
            f'add_header {name} "{value}" always;\n' for name, value in COMMON_HEADERS.items()
        ),
        "page_csp": PAGE_CSP,
        "api_csp": API_CSP,
    }
    return {
        "nginx.conf": Template((NGINX_DIR / "nginx.conf.template").read_text()).substitute(values),
        "labelops/headers.conf": Template(
            (NGINX_DIR / "headers.conf.template").read_text()
        ).substitute(values),
        "labelops/proxy.conf": (NGINX_DIR / "proxy.conf").read_text(),
        "labelops/mime.types": (NGINX_DIR / "mime.types").read_text(),
        "labelops/routes.conf": render_routes("nginx"),
    }


def write_edge(settings: EdgeSettings, out: Path) -> None:
    for relative, text in render_edge(settings).items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def origins_from_values(path: Path) -> list[str]:
    """`edge.cors.allowOrigins` of a chart values file (none when `edge.cors.enabled` is off,
    as the chart's ingress then sends no CORS headers)."""
    import yaml

    values = yaml.safe_load(path.read_text()) or {}
    cors = (values.get("edge") or {}).get("cors") or {}
    if not cors.get("enabled"):
        return []
    return [str(origin) for origin in cors.get("allowOrigins") or []]


#: The edge of deploy/compose/compose.yaml: services by their compose names.
COMPOSE_EDGE = EdgeSettings(
    server_name="localhost",
    public_authority="localhost:8443",
    allowed_origins=["https://localhost:8443"],
    upstreams={service: f"{service}:8080" for service in SERVICE_NAMES},
    web_root="/usr/share/nginx/html",
    http_listen="8080",
    https_listen="8443",
    temp_dir="/var/cache/nginx",
    pid_file="/var/cache/nginx/nginx.pid",
)


def _generate_compose(check: bool) -> int:
    rendered = render_edge(COMPOSE_EDGE)
    stale = []
    for relative, text in rendered.items():
        path = COMPOSE_EDGE_DIR / relative
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("stale compose edge (run `python scripts/edge.py generate`):", ", ".join(stale))
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="write nginx.conf and labelops/ into --out")
    render.add_argument("--out", type=Path, required=True)
    render.add_argument("--values", type=Path, help="chart values: edge.cors.allowOrigins")
    render.add_argument("--allow-origin", action="append", default=[], dest="origins")
    render.add_argument("--upstreams-at", help="host:port for every service (single process)")
    render.add_argument(
        "--upstream", action="append", default=[], help="service=host:port, once per service"
    )
    defaults = EdgeSettings()
    for name, value in vars(defaults).items():
        if isinstance(value, str):
            render.add_argument("--" + name.replace("_", "-"), default=value)
    commands.add_parser("generate", help="write deploy/compose/edge/")
    commands.add_parser("check", help="fail if deploy/compose/edge/ is stale")
    args = parser.parse_args(argv)
    if args.command in ("generate", "check"):
        return _generate_compose(check=args.command == "check")

    upstreams = (
        {service: args.upstreams_at for service in SERVICE_NAMES} if args.upstreams_at else {}
    )
    for item in args.upstream:
        service, _, address = item.partition("=")
        upstreams[service] = address
    origins = list(args.origins) + (origins_from_values(args.values) if args.values else [])
    settings = EdgeSettings(
        allowed_origins=origins,
        upstreams=upstreams,
        **{
            name: getattr(args, name)
            for name, value in vars(defaults).items()
            if isinstance(value, str)
        },
    )
    try:
        write_edge(settings, args.out)
    except ValueError as exc:
        print(f"edge: {exc}", file=sys.stderr)
        return 2
    if not (Path(settings.web_root) / "index.html").exists():
        print(f"note: {settings.web_root}/index.html does not exist yet (build web/ first)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
