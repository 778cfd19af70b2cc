"""Writes the README's roles table from the permission table in the code.

python scripts/permissions.py generate   # (make permissions)
python scripts/permissions.py check      # (run by the test command)

The table is `labelops_common.auth.permissions.PERMISSIONS`; the README holds its rendering
between two markers, so the documented rights cannot drift from the enforced ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

from labelops_common.auth.permissions import render_table

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- permissions:begin (scripts/permissions.py generate) -->\n"
END = "<!-- permissions:end -->\n"


def rendered(text: str) -> str:
    start = text.index(BEGIN) + len(BEGIN)
    stop = text.index(END, start)
    return text[:start] + render_table() + text[stop:]


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in {"generate", "check"}:
        print(__doc__, file=sys.stderr)
        return 2
    text = README.read_text()
    if BEGIN not in text or END not in text:
        print(f"{README.name}: the permissions markers are missing", file=sys.stderr)
        return 1
    wanted = rendered(text)
    if argv[1] == "generate":
        README.write_text(wanted)
        return 0
    if wanted != text:
        print(
            "README.md's roles table differs from labelops_common.auth.permissions: "
            "run `python scripts/permissions.py generate`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
