"""The single process the hostile-input and fuzzing modules attack, started once for both.

It runs as the chart runs by default: the outbound address policy refuses private and
loopback addresses (no `LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS`), so every SSRF target in
the corpus must be refused by the server itself. Local-files storages get a document root
with a secret file beside it and a symlink leading out of it, for the traversal cases.

Both modules import the `hostile_suite` fixture; pytest keeps one fixture definition per
module, so the process is shared through a reference count here and stopped by the last
module to finish with it (nothing is left behind in the test process).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from labelops_runtime.suite import free_loopback_port
from labelops_testing.databases import embedded_data_dir

from tests.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    SECRET,
    RunningProcess,
    service_databases,
    start_labelops,
    stop,
)

#: Written beside the document root: a traversal that reads it leaks it.
SECRET_FILE_TEXT = "secret outside the document root"


@dataclass
class HostileSuite:
    process: RunningProcess
    document_root: Path
    outside_file: Path

    @property
    def base_url(self) -> str:
        return self.process.base_url

    def client(self) -> httpx.Client:
        """An org owner's client (the bootstrap admin owns the only organization)."""
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Token {ADMIN_TOKEN}"},
            timeout=60,
        )


_shared: dict[str, object] = {}


def _start(stack: ExitStack, tmp: Path) -> HostileSuite:
    outside = tmp / "outside"
    outside.mkdir()
    outside_file = outside / "secret.json"
    outside_file.write_text(f'{{"text": "{SECRET_FILE_TEXT}"}}')
    document_root = tmp / "root"
    (document_root / "images").mkdir(parents=True)
    (document_root / "images" / "task.json").write_text('{"text": "inside"}')
    (document_root / "escape").symlink_to(outside, target_is_directory=True)
    port = free_loopback_port()
    env = {
        "LABELOPS_PORT": str(port),
        "LABELOPS_SECRET_KEY": SECRET,
        "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
        "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
        "LABELOPS_STORAGE_SYNC_LOCAL_FILES_DOCUMENT_ROOT": str(document_root),
    }
    data_dir = stack.enter_context(embedded_data_dir())
    env.update(stack.enter_context(service_databases()), LABELOPS_DATA_DIR=str(data_dir))
    # A stray setting in the caller's environment must not open private networks here.
    env["LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "false"
    running = start_labelops(["serve", "--target", "all"], env, tmp / "labelops.log", port)
    stack.callback(stop, running)
    return HostileSuite(process=running, document_root=document_root, outside_file=outside_file)


@pytest.fixture(scope="session")
def hostile_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileSuite]:
    if not _shared:
        stack = ExitStack()
        try:
            started = _start(stack, tmp_path_factory.mktemp("hostile"))
        except BaseException:
            stack.close()
            raise
        _shared.update(stack=stack, users=0, suite=started)
    _shared["users"] = int(str(_shared["users"])) + 1
    suite = _shared["suite"]
    assert isinstance(suite, HostileSuite)
    try:
        yield suite
    finally:
        _shared["users"] = int(str(_shared["users"])) - 1
        if _shared["users"] == 0:
            stack = _shared["stack"]
            _shared.clear()
            assert isinstance(stack, ExitStack)
            stack.close()
