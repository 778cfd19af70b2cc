"""Writes each service's OpenAPI document and the web app's types generated from it.

python scripts/openapi.py generate   # (make openapi)
python scripts/openapi.py check      # (run by the test command)

Each service's FastAPI app is built as the runtime builds it (`build_runtime`), without
serving; its document goes to `docs/openapi/<service>.json` (sorted keys, stable), and
openapi-typescript (web/package.json, from the lock file) turns it into
`web/src/api/generated/<service>.ts`. `check` regenerates into a temporary folder and
names the committed files that differ.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from labelops_common.settings import SERVICE_NAMES, CommonSettings
from labelops_runtime.suite import build_runtime

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
DOCUMENTS = Path("docs") / "openapi"
TYPES = Path("web") / "src" / "api" / "generated"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"


def service_document(service: str) -> dict[str, Any]:
    # Development defaults: the document must not depend on the environment it is built in.
    common = CommonSettings(environment="development")
    runtime = build_runtime(service, common)
    try:
        with warnings.catch_warnings():
            # A duplicate operation id would make the generated `operations` ambiguous.
            warnings.simplefilter("error")
            return runtime.http_app.openapi()
    finally:
        runtime.database.engine.dispose()


def ensure_generator() -> None:
    """openapi-typescript comes from web/package-lock.json, as `make web` installs it."""
    if not GENERATOR.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],  # noqa: S607
            cwd=WEB,
            check=True,
        )


def generate(into: Path) -> None:
    ensure_generator()
    (into / DOCUMENTS).mkdir(parents=True, exist_ok=True)
    (into / TYPES).mkdir(parents=True, exist_ok=True)
    for service in SERVICE_NAMES:
        document = into / DOCUMENTS / f"{service}.json"
        document.write_text(json.dumps(service_document(service), indent=2, sort_keys=True) + "\n")
        result = subprocess.run(  # noqa: S603 (our own paths)
            [str(GENERATOR), str(document), "--output", str(into / TYPES / f"{service}.ts")],
            cwd=WEB,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"openapi-typescript failed on {service}:\n{result.stderr}")


def generated_files(base: Path) -> set[str]:
    return {
        str(path.relative_to(base))
        for folder in (DOCUMENTS, TYPES)
        if (base / folder).is_dir()
        for path in (base / folder).iterdir()
        if path.is_file()
    }


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "generate":
        for folder in (DOCUMENTS, TYPES):
            shutil.rmtree(ROOT / folder, ignore_errors=True)
        generate(ROOT)
        return 0
    if command != "check":
        raise SystemExit(f"usage: {sys.argv[0]} generate|check")
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        expected, actual = generated_files(fresh), generated_files(ROOT)
        stale = sorted(expected ^ actual)
        stale += sorted(
            name
            for name in expected & actual
            if (fresh / name).read_bytes() != (ROOT / name).read_bytes()
        )
    if stale:
        print("OpenAPI documents or web types are stale (run `make openapi`):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
