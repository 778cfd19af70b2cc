"""What the rendered chart says: routes, edge policy, wiring, hooks, network policies, monitoring."""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from labelops_runtime.routes import service_for_path
from labelops_runtime.security_headers import API_HEADERS, PAGE_HEADERS

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "helm" / "labelops"
ROUTES = json.loads((CHART_DIR / "files" / "routes.json").read_text())
SERVICES = ("project-svc", "task-svc", "storage-sync", "export-svc", "ml-gateway")
RELEASE = "labelops"  # scripts/chart.py renders with this release name
HTTP_PORT, GRPC_PORT, METRICS_PORT = 8080, 50051, 9100


def _declared_queues() -> set[str]:
    """The queues the services declare in `<package>/jobs.py` (`ServiceJobs(queues=...)`)."""
    queues: set[str] = set()
    for declaration in ROOT.glob("services/*/*/jobs.py"):
        for group in re.findall(r"queues=\(([^)]*)\)", declaration.read_text()):
            queues |= set(re.findall(r'"([a-z_-]+)"', group))
    return queues


def _expand(pattern: str) -> list[str]:
    """Concrete paths a route regex matches: each alternative, digits for [0-9]+, deeper paths."""
    pattern = pattern.removeprefix("^").replace("[0-9]+", "7").replace("\\-", "-")
    start = pattern.find("(")
    if start < 0:
        return [pattern]
    depth, end = 0, start
    for index in range(start, len(pattern)):
        depth += {"(": 1, ")": -1}.get(pattern[index], 0)
        if depth == 0:
            end = index
            break
    alternatives = pattern[start + 1 : end].split("|")
    if alternatives == ["/", "$"]:
        alternatives = ["", "/", "/deeper/path"]
    head, tail = pattern[:start], pattern[end + 1 :]
    return [head + choice + rest for choice in alternatives for rest in _expand(tail)]


SAMPLE_PATHS = sorted(
    {path for route in ROUTES for path in _expand(route["regex"])}
    | {"/", "/projects/7", "/api/projectsfoo", "/static/main.js", "/api/tasksx"}
)


def _expected_backend(path: str) -> str:
    return service_for_path(path) or "web"


def _ingress_locations(rendered: Any) -> list[tuple[str, str]]:
    locations = []
    for ingress in rendered.of_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]["name"].removeprefix(f"{RELEASE}-")
                locations.append((path["path"], backend))
    return locations


def test_every_route_is_in_the_ingress_with_its_backend(rendered_files: dict[str, Any]) -> None:
    rendered = rendered_files["values.yaml"]
    locations = _ingress_locations(rendered)
    for route in ROUTES:
        assert (route["regex"].removeprefix("^"), route["service"]) in locations, route
    assert ("/", "web") in locations
    assert len(locations) == len(ROUTES) + 1
    services = {svc["metadata"]["name"]: svc for svc in rendered.of_kind("Service")}
    for ingress in rendered.of_kind("Ingress"):
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/use-regex"] == "true"
        for path in ingress["spec"]["rules"][0]["http"]["paths"]:
            assert path["pathType"] == "ImplementationSpecific"
            backend = path["backend"]["service"]
            port_names = {port["name"] for port in services[backend["name"]]["spec"]["ports"]}
            assert backend["port"]["name"] in port_names


@pytest.mark.parametrize("path", SAMPLE_PATHS)
def test_ingress_nginx_order_keeps_first_match(rendered_files: dict[str, Any], path: str) -> None:
    """ingress-nginx writes regex locations longest first, `~*` anchored at the start."""
    locations = sorted(
        _ingress_locations(rendered_files["values.yaml"]), key=lambda item: -len(item[0])
    )
    chosen = next(
        backend for regex, backend in locations if re.match("^" + regex, path, re.IGNORECASE)
    )
    assert chosen == _expected_backend(path)


def _httproute_rules(rendered: Any) -> list[tuple[str, str, str]]:
    route = rendered.named("HTTPRoute", RELEASE)
    rules = []
    for rule in route["spec"]["rules"]:
        backend = rule["backendRefs"][0]["name"].removeprefix(f"{RELEASE}-")
        for match in rule["matches"]:
            rules.append((match["path"]["type"], match["path"]["value"], backend))
    return rules


def test_httproute_renders_the_same_table_in_order(features_on: Any) -> None:
    assert not features_on.of_kind("Ingress")
    rules = _httproute_rules(features_on)
    assert rules[:-1] == [("RegularExpression", r["regex"], r["service"]) for r in ROUTES]
    assert rules[-1] == ("PathPrefix", "/", "web")
    route = features_on.named("HTTPRoute", RELEASE)
    assert route["spec"]["hostnames"] == ["labelops.example.com"]
    for rule in route["spec"]["rules"]:
        assert len(rule["matches"]) <= 8
    assert len(route["spec"]["rules"]) <= 16


@pytest.mark.parametrize("path", SAMPLE_PATHS)
def test_httproute_first_match_agrees_with_the_table(features_on: Any, path: str) -> None:
    chosen = next(
        backend
        for kind, value, backend in _httproute_rules(features_on)
        if (kind == "RegularExpression" and re.match(value, path))
        or (kind == "PathPrefix" and path.startswith(value))
    )
    assert chosen == _expected_backend(path)


def test_every_ingress_adds_the_security_headers_of_its_backend(
    rendered_files: dict[str, Any],
) -> None:
    """The web UI's pages get the page policy, the services' answers the API's, both from
    labelops_runtime.security_headers (files/security-headers.json is checked current)."""
    expected = {"page": dict(PAGE_HEADERS), "api": dict(API_HEADERS)}
    assert json.loads((CHART_DIR / "files" / "security-headers.json").read_text()) == expected
    for rendered in rendered_files.values():
        for ingress in rendered.of_kind("Ingress"):
            kind = "page" if ingress["metadata"]["name"] == f"{RELEASE}-web" else "api"
            reference = ingress["metadata"]["annotations"][
                "nginx.ingress.kubernetes.io/custom-headers"
            ]
            namespace, name = reference.split("/")
            assert namespace == ingress["metadata"]["namespace"]
            assert name == f"{RELEASE}-{kind}-headers"
            assert rendered.named("ConfigMap", name)["data"] == expected[kind]


def test_httproute_sets_the_security_headers_of_each_backend(features_on: Any) -> None:
    route = features_on.named("HTTPRoute", RELEASE)
    for rule in route["spec"]["rules"]:
        backend = rule["backendRefs"][0]["name"].removeprefix(f"{RELEASE}-")
        [modifier] = [f for f in rule["filters"] if f["type"] == "ResponseHeaderModifier"]
        headers = {h["name"]: h["value"] for h in modifier["responseHeaderModifier"]["set"]}
        assert headers == dict(PAGE_HEADERS if backend == "web" else API_HEADERS), backend
    assert not features_on.of_kind("Ingress")


def test_gateway_https_redirect_route(features_on: Any) -> None:
    redirect = features_on.named("HTTPRoute", f"{RELEASE}-https-redirect")
    assert redirect["spec"]["parentRefs"][0]["sectionName"] == "http"
    assert redirect["spec"]["rules"][0]["filters"][0]["requestRedirect"]["scheme"] == "https"


def test_production_edge_tls_cors_and_limits(rendered_files: dict[str, Any]) -> None:
    production = rendered_files["values-production.yaml"]
    values = yaml.safe_load((CHART_DIR / "values-production.yaml").read_text())
    origins = values["edge"]["cors"]["allowOrigins"]
    assert len(origins) >= 2
    ingresses = production.of_kind("Ingress")
    assert {ing["metadata"]["name"] for ing in ingresses} == {
        f"{RELEASE}-{name}" for name in (*SERVICES, "web")
    }
    for ingress in ingresses:
        annotations = ingress["metadata"]["annotations"]
        assert ingress["spec"]["tls"] == [
            {"hosts": ["labelops.example.com"], "secretName": "labelops-tls"}
        ]
        assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt-production"
        assert annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
        assert annotations["nginx.ingress.kubernetes.io/enable-cors"] == "true"
        allowed = annotations["nginx.ingress.kubernetes.io/cors-allow-origin"].split(", ")
        assert allowed == origins
        # The route table's limits: imports on task-svc, API calls elsewhere, nothing for pages.
        body_limit = {f"{RELEASE}-task-svc": "1024m", f"{RELEASE}-web": "1m"}.get(
            ingress["metadata"]["name"], "100m"
        )
        assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == body_limit
        assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
        assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    export = production.named("Ingress", f"{RELEASE}-export-svc")
    assert (
        export["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"]
        == "7200"
    )


def test_trial_values_have_no_cors_and_no_tls(rendered_files: dict[str, Any]) -> None:
    for ingress in rendered_files["values.yaml"].of_kind("Ingress"):
        assert "tls" not in ingress["spec"]
        assert "nginx.ingress.kubernetes.io/enable-cors" not in ingress["metadata"]["annotations"]


def test_production_uses_external_databases_and_autoscaling(rendered_files: dict[str, Any]) -> None:
    production = rendered_files["values-production.yaml"]
    assert production.of_kind("StatefulSet") == []
    assert production.of_kind("PersistentVolumeClaim") == []
    deployments = {doc["metadata"]["name"] for doc in production.of_kind("Deployment")}
    hpas = production.of_kind("HorizontalPodAutoscaler")
    assert {hpa["spec"]["scaleTargetRef"]["name"] for hpa in hpas} == deployments
    for hpa in hpas:
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["minReplicas"] >= 1
        assert "replicas" not in production.named("Deployment", hpa["metadata"]["name"])["spec"]
    task = production.named("HorizontalPodAutoscaler", f"{RELEASE}-task-svc")
    assert task["spec"]["maxReplicas"] == 20
    pdbs = {pdb["metadata"]["name"] for pdb in production.of_kind("PodDisruptionBudget")}
    assert pdbs == deployments
    project = production.named("Deployment", f"{RELEASE}-project-svc")
    env = {
        item["name"]: item for item in project["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["LABELOPS_PROJECT_SVC_DATABASE_URL"]["value"] == (
        "postgresql://labelops@labelops.cluster-abc.eu-west-1.rds.amazonaws.com:5432/"
        "labelops_project?sslmode=verify-full"
    )
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "labelops-database",
        "key": "password",
    }
    assert env["LABELOPS_BROKER_URL"]["valueFrom"]["secretKeyRef"]["name"] == "labelops-broker"
    assert env["LABELOPS_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "labelops-secret-key"


def test_trial_values_run_postgresql_and_redis_in_chart(rendered_files: dict[str, Any]) -> None:
    trial = rendered_files["values.yaml"]
    statefulsets = {doc["metadata"]["name"]: doc for doc in trial.of_kind("StatefulSet")}
    assert set(statefulsets) == {f"{RELEASE}-postgresql", f"{RELEASE}-redis"}
    for statefulset in statefulsets.values():
        assert statefulset["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"][
            "storage"
        ]
        image = statefulset["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.startswith("docker.io/library/")
    init = trial.named("ConfigMap", f"{RELEASE}-postgresql-init")["data"]["create-databases.sql"]
    for database in (
        "labelops_project",
        "labelops_task",
        "labelops_storage",
        "labelops_export",
        "labelops_ml",
    ):
        assert f"CREATE DATABASE {database} OWNER labelops;" in init
    worker = trial.named("Deployment", f"{RELEASE}-worker-imports")
    env = {
        item["name"]: item for item in worker["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert (
        env["LABELOPS_BROKER_URL"]["value"]
        == f"redis://:$(LABELOPS_REDIS_PASSWORD)@{RELEASE}-redis:6379/0"
    )
    names = [item["name"] for item in worker["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert names.index("LABELOPS_REDIS_PASSWORD") < names.index("LABELOPS_BROKER_URL")


def _containers(rendered: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind in ("Deployment", "StatefulSet", "Job"):
        for doc in rendered.of_kind(kind):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                yield f"{kind}/{doc['metadata']['name']}", container


@pytest.mark.parametrize(
    "values_file", ["values.yaml", "values-production.yaml", "values-minimal.yaml"]
)
def test_secrets_only_come_from_secret_refs(
    rendered_files: dict[str, Any], values_file: str
) -> None:
    for where, container in _containers(rendered_files[values_file]):
        for item in container.get("env", []):
            if re.search(r"PASSWORD|SECRET|TOKEN|CONNECTION_STRING|PGPASS", item["name"]):
                assert "valueFrom" in item, f"{where}: {item['name']} is inline"


def test_services_are_wired_for_one_process_per_service(rendered_files: dict[str, Any]) -> None:
    trial = rendered_files["values.yaml"]
    config = trial.named("ConfigMap", f"{RELEASE}-config")["data"]
    peers = json.loads(config["LABELOPS_GRPC_PEERS"])
    assert peers == {name: f"{RELEASE}-{name}:{GRPC_PORT}" for name in SERVICES}
    assert config["LABELOPS_ENVIRONMENT"] == "production"
    for name in SERVICES:
        service = trial.named("Service", f"{RELEASE}-{name}")
        ports = {port["name"]: port["port"] for port in service["spec"]["ports"]}
        assert ports == {"http": HTTP_PORT, "grpc": GRPC_PORT}
        deployment = trial.named("Deployment", f"{RELEASE}-{name}")
        pod = deployment["spec"]["template"]["spec"]
        assert (
            service["spec"]["selector"].items()
            <= deployment["spec"]["template"]["metadata"]["labels"].items()
        )
        container = pod["containers"][0]
        assert container["args"] == ["serve", "--target", name, "--port", str(HTTP_PORT)]
        env = {item["name"]: item for item in container["env"]}
        infix = name.upper().replace("-", "_")
        assert env[f"LABELOPS_{infix}_GRPC_BIND"]["value"] == f"0.0.0.0:{GRPC_PORT}"
        assert env[f"LABELOPS_{infix}_DATABASE_URL"]["value"].startswith(
            f"postgresql://labelops@{RELEASE}-postgresql:5432/"
        )
        other_databases = [key for key in env if key.endswith("_DATABASE_URL") and infix not in key]
        assert other_databases == [], "a service opens only its own database"
        assert container["startupProbe"]["grpc"]["port"] == GRPC_PORT
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert {port["name"] for port in container["ports"]} == {"http", "grpc"}
    project_env = {
        item["name"]
        for item in trial.named("Deployment", f"{RELEASE}-project-svc")["spec"]["template"]["spec"][
            "containers"
        ][0]["env"]
    }
    assert {
        "LABELOPS_ADMIN_EMAIL",
        "LABELOPS_ADMIN_PASSWORD",
        "LABELOPS_ADMIN_TOKEN",
    } <= project_env


def test_a_worker_per_declared_queue(rendered_files: dict[str, Any]) -> None:
    trial = rendered_files["values.yaml"]
    queues = _declared_queues()
    assert queues >= {"imports", "exports", "storage", "ml", "webhooks", "events"}
    workers = {
        doc["metadata"]["labels"]["labelops.io/queue"]: doc
        for doc in trial.of_kind("Deployment")
        if doc["metadata"]["name"].startswith(f"{RELEASE}-worker-")
    }
    assert set(workers) == queues
    for queue, worker in workers.items():
        container = worker["spec"]["template"]["spec"]["containers"][0]
        args = container["args"]
        assert args[:3] == ["worker", "--queues", queue]
        assert args[args.index("--metrics-port") + 1] == str(METRICS_PORT)
        assert args[args.index("--pool") + 1] in {"threads", "solo"}, "prefork hides metrics"
        assert container["ports"] == [
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}
        ]
        env = {item["name"] for item in container["env"]}
        assert {f"LABELOPS_{svc.upper().replace('-', '_')}_DATABASE_URL" for svc in SERVICES} <= env


def test_minimal_values_run_one_worker_for_every_queue(rendered_files: dict[str, Any]) -> None:
    minimal = rendered_files["values-minimal.yaml"]
    worker = minimal.named("Deployment", f"{RELEASE}-worker")
    queues = worker["spec"]["template"]["spec"]["containers"][0]["args"][2].split(",")
    assert set(queues) == _declared_queues()
    assert minimal.of_kind("Ingress") == [] and minimal.of_kind("NetworkPolicy") == []


def test_network_policies_guard_http_and_grpc(rendered_files: dict[str, Any]) -> None:
    trial = rendered_files["values.yaml"]
    policies = {doc["metadata"]["name"]: doc for doc in trial.of_kind("NetworkPolicy")}
    for name in SERVICES:
        http = policies[f"{RELEASE}-{name}-http"]["spec"]
        assert http["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == name
        assert http["ingress"][0]["ports"] == [{"port": "http", "protocol": "TCP"}]
        sources = http["ingress"][0]["from"]
        assert sources[0]["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": "ingress-nginx"
        }
        assert sources[0]["podSelector"]["matchLabels"] == {
            "app.kubernetes.io/name": "ingress-nginx"
        }
        assert all("namespaceSelector" in source for source in sources), "no same-namespace HTTP"
        grpc = policies[f"{RELEASE}-{name}-grpc"]["spec"]
        assert grpc["ingress"][0]["ports"] == [{"port": "grpc", "protocol": "TCP"}]
        assert grpc["ingress"][0]["from"] == [
            {
                "podSelector": {
                    "matchLabels": {
                        "app.kubernetes.io/name": "labelops",
                        "app.kubernetes.io/instance": RELEASE,
                    }
                }
            }
        ]
    for database, port in (("postgresql", 5432), ("redis", 6379)):
        policy = policies[f"{RELEASE}-{database}"]["spec"]
        assert policy["ingress"][0]["ports"] == [{"port": port, "protocol": "TCP"}]
    egress = policies[f"{RELEASE}-egress"]["spec"]
    assert egress["policyTypes"] == ["Egress"]
    egress_ports = {port["port"] for rule in egress["egress"] for port in rule["ports"]}
    assert {53, GRPC_PORT, 5432, 6379} <= egress_ports


@pytest.mark.parametrize(
    ("values_file", "args", "name", "hook"),
    [
        ("values-production.yaml", (), "migrations", "pre-install,pre-upgrade"),
        ("values-production.yaml", ("--is-upgrade",), "migrations", "pre-install,pre-upgrade"),
        ("values.yaml", ("--is-upgrade",), "migrations", "pre-upgrade"),
        ("values.yaml", (), "migrations-install", None),
    ],
)
def test_migrations_job_runs_once_before_the_release_changes(
    render: Any, values_file: str, args: tuple[str, ...], name: str, hook: str | None
) -> None:
    """External DB: a pre-install/pre-upgrade hook. Trial: the DB is in the release, so the
    first install runs the Job as a release object (a post-install hook would deadlock
    `helm install --wait` with project-svc waiting for its tables) and upgrades use the hook."""
    rendered = render((values_file,), (), args)
    (job,) = rendered.of_kind("Job")
    assert job["metadata"]["name"] == f"{RELEASE}-{name}"
    secret = rendered.named("Secret", f"{RELEASE}-{name}")
    if hook is None:
        assert "annotations" not in job["metadata"]
        assert "annotations" not in secret["metadata"]
    else:
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == hook
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        secret_annotations = secret["metadata"]["annotations"]
        assert secret_annotations["helm.sh/hook"] == hook
        assert int(secret_annotations["helm.sh/hook-weight"]) < int(
            annotations["helm.sh/hook-weight"]
        )
    spec = job["spec"]
    assert spec["parallelism"] == 1 and spec["completions"] == 1
    assert spec["backoffLimit"] >= 1 and spec["activeDeadlineSeconds"] > 0
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    container = pod["containers"][0]
    assert container["args"] == ["migrate", "--target", "all"]
    env = {item["name"]: item for item in container["env"]}
    assert {f"LABELOPS_{svc.upper().replace('-', '_')}_DATABASE_URL" for svc in SERVICES} <= set(
        env
    )
    assert env["LABELOPS_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["name"] == f"{RELEASE}-{name}"
    assert "envFrom" not in container, "on pre-install the release's ConfigMap does not exist yet"


def test_monitoring_objects(features_on: Any) -> None:
    monitors = {doc["metadata"]["name"]: doc for doc in features_on.of_kind("ServiceMonitor")}
    assert set(monitors) == {f"{RELEASE}-{name}" for name in SERVICES}
    for name in SERVICES:
        spec = monitors[f"{RELEASE}-{name}"]["spec"]
        assert spec["selector"]["matchLabels"]["app.kubernetes.io/component"] == name
        assert spec["endpoints"][0]["port"] == "http" and spec["endpoints"][0]["path"] == "/metrics"
        assert (
            monitors[f"{RELEASE}-{name}"]["metadata"]["labels"]["release"]
            == "kube-prometheus-stack"
        )
    pod_monitor = features_on.named("PodMonitor", f"{RELEASE}-workers")
    assert pod_monitor["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
    assert pod_monitor["spec"]["selector"]["matchLabels"]["labelops.io/worker"] == "true"
    rules = features_on.named("PrometheusRule", f"{RELEASE}-alerts")
    source = yaml.safe_load((CHART_DIR / "files" / "monitoring" / "alerts.yaml").read_text())
    assert rules["spec"]["groups"] == source["groups"]
    dashboards = [
        doc
        for doc in features_on.of_kind("ConfigMap")
        if "grafana_dashboard" in doc["metadata"]["labels"]
    ]
    files = sorted((CHART_DIR / "files" / "monitoring" / "dashboards").glob("*.json"))
    assert len(dashboards) == len(files) >= 1
    for dashboard in dashboards:
        assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
        ((filename, content),) = dashboard["data"].items()
        assert json.loads(content) == json.loads(
            (CHART_DIR / "files" / "monitoring" / "dashboards" / filename).read_text()
        )


def test_keda_replaces_the_worker_hpas(features_on: Any) -> None:
    scaled = {
        doc["spec"]["scaleTargetRef"]["name"]: doc for doc in features_on.of_kind("ScaledObject")
    }
    assert set(scaled) == {f"{RELEASE}-worker-{queue}" for queue in _declared_queues()}
    hpa_targets = {
        hpa["spec"]["scaleTargetRef"]["name"]
        for hpa in features_on.of_kind("HorizontalPodAutoscaler")
    }
    assert not set(scaled) & hpa_targets, "an HPA and a ScaledObject would fight over replicas"
    for name, scaled_object in scaled.items():
        trigger = scaled_object["spec"]["triggers"][0]
        assert trigger["type"] == "redis"
        assert trigger["metadata"]["listName"] == name.removeprefix(f"{RELEASE}-worker-")
        assert trigger["metadata"]["address"] == "labelops.cache.amazonaws.com:6379"
        assert "replicas" not in features_on.named("Deployment", name)["spec"]


def test_rabbitmq_keda_trigger(render: Any) -> None:
    rendered = render(
        ("values-production.yaml",),
        ("externalBroker.type=rabbitmq", "workers.queues.exports.keda.enabled=true"),
    )
    (scaled,) = rendered.of_kind("ScaledObject")
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "rabbitmq" and trigger["metadata"]["queueName"] == "exports"
    auth = rendered.named("TriggerAuthentication", trigger["authenticationRef"]["name"])
    assert auth["spec"]["secretTargetRef"][0] == {
        "parameter": "host",
        "name": "labelops-broker",
        "key": "LABELOPS_BROKER_URL",
    }


@pytest.mark.parametrize(
    ("storage", "expected_env"),
    [
        (
            (
                "artifactStorage.type=s3",
                "artifactStorage.bucket=b",
                "artifactStorage.s3.accessKeyId=AKIA",
                "artifactStorage.s3.secretAccessKey=x",
            ),
            {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
        ),
        (
            (
                "artifactStorage.type=gcs",
                "artifactStorage.bucket=b",
                "artifactStorage.gcs.existingSecret=gcs-key",
            ),
            {"GOOGLE_APPLICATION_CREDENTIALS"},
        ),
        (
            (
                "artifactStorage.type=azure",
                "artifactStorage.bucket=b",
                "artifactStorage.azure.existingSecret=az",
            ),
            {"AZURE_STORAGE_CONNECTION_STRING"},
        ),
    ],
)
def test_artifact_storage_backends(
    render: Any, storage: tuple[str, ...], expected_env: set[str]
) -> None:
    rendered = render((), storage)
    deployment = rendered.named("Deployment", f"{RELEASE}-export-svc")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {item["name"]: item for item in container["env"]}
    assert env["LABELOPS_ARTIFACT_BUCKET"]["value"] == "b"
    assert expected_env <= set(env)
    if "GOOGLE_APPLICATION_CREDENTIALS" in expected_env:
        mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
        assert "/var/run/secrets/labelops/gcs" in mounts


def test_readme_values_table_is_current(chart_tool: ModuleType) -> None:
    readme = (CHART_DIR / "README.md").read_text()
    assert chart_tool.readme_with_table(readme) == readme, "run `python scripts/chart.py docs`"
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    for key in schema["properties"]:
        if key != "global":
            assert f"`{key}" in readme, key


#: Variables the chart sets that no settings class reads (yet): the Redis password feeds
#: the broker URL by $(...) expansion; artifact storage is the chart's contract with the
#: storage code (the SDKs read AWS_*, GOOGLE_*, AZURE_* themselves).
CHART_ONLY_VARIABLES = {
    "LABELOPS_REDIS_PASSWORD",
    "LABELOPS_ARTIFACT_STORAGE",
    "LABELOPS_ARTIFACT_BUCKET",
    "LABELOPS_ARTIFACT_PREFIX",
}
SETTINGS_CLASSES = {
    "project-svc": "project_svc.settings",
    "task-svc": "task_svc.settings",
    "storage-sync": "storage_sync.settings",
    "export-svc": "export_svc.settings",
    "ml-gateway": "ml_gateway.settings",
}


def _container_environment(rendered: Any, deployment_name: str) -> dict[str, str]:
    """The environment a container would see: its ConfigMap, its env, $(VAR) expanded;
    secret references become a stand-in value of 48 characters."""
    container = rendered.named("Deployment", deployment_name)["spec"]["template"]["spec"][
        "containers"
    ][0]
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        environment.update(rendered.named("ConfigMap", source["configMapRef"]["name"])["data"])
    for item in container.get("env", []):
        if "valueFrom" in item:
            environment[item["name"]] = "s" * 48
        else:
            environment[item["name"]] = re.sub(
                r"\$\(([A-Z0-9_]+)\)", lambda match: environment[match.group(1)], item["value"]
            )
    return environment


@pytest.mark.parametrize("service", SERVICES)
def test_service_settings_read_what_the_chart_sets(
    rendered_files: dict[str, Any], monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    """The real settings classes, fed the rendered environment, see the intended wiring."""
    from labelops_common.settings import CommonSettings
    from project_svc.settings import AdminBootstrapSettings

    environment = _container_environment(rendered_files["values.yaml"], f"{RELEASE}-{service}")
    for name in list(os.environ):
        if name.startswith("LABELOPS_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    common = CommonSettings()
    settings = importlib.import_module(SETTINGS_CLASSES[service]).Settings()
    assert common.environment == "production"
    assert str(common.data_dir) == "/data"
    assert {name: common.peer_address(name) for name in SERVICES} == {
        name: f"{RELEASE}-{name}:{GRPC_PORT}" for name in SERVICES
    }
    assert common.resolved_broker_url() == f"redis://:{'s' * 48}@{RELEASE}-redis:6379/0"
    assert settings.resolved_grpc_bind() == f"0.0.0.0:{GRPC_PORT}"
    assert settings.http_port == HTTP_PORT
    assert settings.resolved_database_url(common).startswith(
        f"postgresql://labelops@{RELEASE}-postgresql:5432/labelops_"
    )
    # Every LABELOPS_* variable the chart sets is a field of a settings class that reads it.
    service_prefix = f"LABELOPS_{service.upper().replace('-', '_')}_"
    known = {f"LABELOPS_{field.upper()}" for field in CommonSettings.model_fields}
    known |= {service_prefix + field.upper() for field in type(settings).model_fields}
    if service == "project-svc":
        known |= {
            f"LABELOPS_ADMIN_{field.upper()}" for field in AdminBootstrapSettings.model_fields
        }
        assert AdminBootstrapSettings().email == "admin@labelops.local"
        assert settings.allow_signup is False  # only the first user signs up on their own
    chart_variables = {name for name in environment if name.startswith("LABELOPS_")}
    assert chart_variables - CHART_ONLY_VARIABLES <= known


def test_allow_signup_reaches_project_svc_only(rendered_files: dict[str, Any], render: Any) -> None:
    for rendered, expected in (
        (rendered_files["values.yaml"], "false"),
        (render((), ("allowSignup=true",)), "true"),
    ):
        for service in SERVICES:
            environment = _container_environment(rendered, f"{RELEASE}-{service}")
            if service == "project-svc":
                assert environment["LABELOPS_PROJECT_SVC_ALLOW_SIGNUP"] == expected
            else:
                assert "LABELOPS_PROJECT_SVC_ALLOW_SIGNUP" not in environment


def test_outbound_fetches_stay_off_private_networks_unless_allowed(
    rendered_files: dict[str, Any], render: Any
) -> None:
    """`make run` allows private networks (a laptop's model server); the chart must not."""
    for rendered, expected in (
        (rendered_files["values.yaml"], "false"),
        (render((), ("outbound.allowPrivateNetworks=true",)), "true"),
    ):
        for service in SERVICES:
            environment = _container_environment(rendered, f"{RELEASE}-{service}")
            assert environment["LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] == expected


def test_local_artifact_storage_is_one_claim_shared_by_services_and_workers(
    rendered_files: dict[str, Any],
) -> None:
    """An export a worker writes must be the file export-svc serves, so with local storage every
    service and worker pod mounts the same claim at /data; with an object store none does."""
    trial = rendered_files["values.yaml"]
    claims = trial.of_kind("PersistentVolumeClaim")
    assert [claim["metadata"]["name"] for claim in claims] == ["labelops-artifacts"]
    suite_pods = [
        deployment
        for deployment in trial.of_kind("Deployment")
        if deployment["metadata"]["labels"]["app.kubernetes.io/component"] != "web"
    ]
    assert len(suite_pods) >= 6
    for deployment in suite_pods:
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        claim = volumes["data"].get("persistentVolumeClaim", {})
        assert claim.get("claimName") == "labelops-artifacts", deployment["metadata"]["name"]
    production = rendered_files["values-production.yaml"]
    assert not production.of_kind("PersistentVolumeClaim")
    for deployment in production.of_kind("Deployment"):
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        assert "persistentVolumeClaim" not in volumes.get("data", {})


@pytest.mark.parametrize("service", SERVICES)
def test_uvicorn_trusts_the_ingress_forwarded_headers(
    rendered_files: dict[str, Any], monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    """Behind the ingress a request reaches the pod over HTTP: uvicorn must honour the
    ingress's X-Forwarded-Proto, or the session cookie is never `Secure`."""
    from labelops_runtime.processes import ServeOptions, uvicorn_config

    environment = _container_environment(rendered_files["values.yaml"], f"{RELEASE}-{service}")
    assert environment["FORWARDED_ALLOW_IPS"] == "*"
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", environment["FORWARDED_ALLOW_IPS"])
    options = ServeOptions(target=service, embedded_worker=False, host="127.0.0.1", port=HTTP_PORT)
    config = uvicorn_config(None, options)
    assert config.proxy_headers and config.forwarded_allow_ips == "*"
