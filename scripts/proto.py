"""Generates the Python gRPC stubs from proto/ and checks that the checked-in ones are current.

python scripts/proto.py generate   # (make proto)
python scripts/proto.py check      # (make proto-check, run by the test command)
"""

from __future__ import annotations

import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUTPUT = ROOT / "libs" / "labelops-proto"
PACKAGE = "labelops"


def generate(into: Path) -> None:
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{include}",
            f"--python_out={into}",
            f"--grpc_python_out={into}",
            f"--mypy_out={into}",
            f"--mypy_grpc_out={into}",
            *sources,
        ]
    )
    if code != 0:
        raise SystemExit(f"protoc failed with {code}")
    for directory in [into / PACKAGE, *(p for p in (into / PACKAGE).rglob("*") if p.is_dir())]:
        init = directory / "__init__.py"
        if not init.exists():
            init.write_text("")


def generated_files(base: Path) -> set[str]:
    return {
        str(p.relative_to(base))
        for p in (base / PACKAGE).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "generate":
        shutil.rmtree(OUTPUT / PACKAGE, ignore_errors=True)
        (OUTPUT / PACKAGE).mkdir(parents=True)
        generate(OUTPUT)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        (fresh / PACKAGE).mkdir()
        generate(fresh)
        expected, actual = generated_files(fresh), generated_files(OUTPUT)
        stale = sorted(expected ^ actual)
        stale += sorted(
            name
            for name in expected & actual
            if not filecmp.cmp(fresh / name, OUTPUT / name, shallow=False)
        )
    if stale:
        print("gRPC stubs are stale (run `make proto`):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
