"""Browser fixtures: the built web app served by a real single-process LabelOps, driven by
Playwright through Debian's Chromium (never a downloaded browser).

The test command builds `web/dist` (`make web`) before pytest; these tests refuse to run
against a missing build rather than test a stale or empty one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from labelops_runtime.suite import free_loopback_port
from labelops_testing.databases import embedded_data_dir
from labelops_testing.emulators import fake_gcs
from labelops_testing.processes import stop_process, wait_until_answering
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

REPO = Path(__file__).resolve().parents[2]
WEB_DIST = REPO / "web" / "dist"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "browser-admin-password-1"
ADMIN_TOKEN = "fedcba9876543210fedcba9876543210fedcba98"
SECRET = "browser-test-secret-key-0123456789abcdef0123"
#: How long a page may take to show what a test waits for.
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class WebApp:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def web_dist() -> Path:
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail(
            f"{WEB_DIST / 'index.html'} is missing: build the web app with `make web` "
            "before running the browser tests.",
            pytrace=False,
        )
    return WEB_DIST


@pytest.fixture(scope="session")
def document_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's local-files document root: local storages must lie under it."""
    return tmp_path_factory.mktemp("document-root")


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """fake-gcs-server; the server's GCS client is pointed at it (`STORAGE_EMULATOR_HOST`)."""
    with fake_gcs(tmp_path_factory.mktemp("gcs")) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def web_app(
    web_dist: Path,
    document_root: Path,
    gcs_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WebApp]:
    """`labelops serve --target all` as `make run` runs it (the embedded PostgreSQL and
    queue), serving the built app at `/`."""
    tmp = tmp_path_factory.mktemp("browser-suite")
    port = free_loopback_port()
    with embedded_data_dir() as data_dir:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LABELOPS_")},
            "LABELOPS_DATA_DIR": str(data_dir),
            "LABELOPS_PORT": str(port),
            "LABELOPS_WEB_DIR": str(web_dist),
            "LABELOPS_SECRET_KEY": SECRET,
            "LABELOPS_ADMIN_EMAIL": ADMIN_EMAIL,
            "LABELOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "LABELOPS_ADMIN_TOKEN": ADMIN_TOKEN,
            # As `make run` sets it: the webhook, ML and storage pages' tests call servers on
            # loopback (receivers, model servers, the storage emulators).
            "LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true",
            "LABELOPS_STORAGE_SYNC_LOCAL_FILES_DOCUMENT_ROOT": str(document_root),
            "STORAGE_EMULATOR_HOST": gcs_endpoint,
        }
        log_path = tmp / "labelops.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "labelops_runtime.cli", "serve", "--target", "all"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        app = WebApp(base_url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
        try:
            wait_until_answering(
                f"{app.base_url}/healthz",
                app.process,
                log_path=app.log_path,
                # A shared 2-core machine under load takes over a minute (measured: 100 s at
                # load 20); the deadline only bounds a server that never comes up.
                deadline=time.monotonic() + 180,
            )
            yield app
        finally:
            stop_process(process, timeout=20)


@pytest.fixture(scope="session")
def api(web_app: WebApp) -> Iterator[httpx.Client]:
    """The admin's API client, for arranging data and checking what the UI stored."""
    with httpx.Client(
        base_url=web_app.base_url, headers={"Authorization": f"Token {ADMIN_TOKEN}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's browser (apt-get install chromium).",
            pytrace=False,
        )
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


class PageErrors:
    """Uncaught errors of the page's scripts and anything the Content-Security-Policy
    refused; a test fails if any occurred (so every browser test runs the app under it)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._csp_violation(page, message))

    def _csp_violation(self, page: Page, message: ConsoleMessage) -> None:
        # Chromium reports each refused load, script, style or eval as a console error.
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(f"{page.url}: {message.text}")


def _new_context(browser: Browser, web_app: WebApp, **options: Any) -> BrowserContext:
    context = browser.new_context(
        base_url=web_app.base_url,
        viewport={"width": 1400, "height": 900},
        accept_downloads=True,
        **options,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sign_in_through_ui(
    page: Page, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/projects")


@pytest.fixture(scope="session")
def signed_in_state(browser: Browser, web_app: WebApp) -> dict[str, Any]:
    """The admin's cookies after signing in through the sign-in page once."""
    context = _new_context(browser, web_app)
    page = context.new_page()
    sign_in_through_ui(page)
    state: Any = context.storage_state()
    context.close()
    return state


@pytest.fixture()
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture()
def anonymous_page(browser: Browser, web_app: WebApp, page_errors: PageErrors) -> Iterator[Page]:
    context = _new_context(browser, web_app)
    page = context.new_page()
    page_errors.watch(page)
    yield page
    context.close()
    assert page_errors.errors == [], "uncaught errors in the page"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keeps each phase's report on the test item, so fixtures can see a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture()
def page(
    request: pytest.FixtureRequest,
    browser: Browser,
    web_app: WebApp,
    signed_in_state: dict[str, Any],
    page_errors: PageErrors,
) -> Iterator[Page]:
    """A page of a signed-in admin; the test fails if the page threw an uncaught error.

    When the test fails, the page as it was is saved as `failed-<test>.png`.
    """
    failure_shot = SCREENSHOTS / f"failed-{request.node.name}.png"
    failure_shot.unlink(missing_ok=True)
    context = _new_context(browser, web_app, storage_state=signed_in_state)
    page = context.new_page()
    page_errors.watch(page)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(failure_shot), full_page=True)
    context.close()
    assert page_errors.errors == [], "uncaught errors in the page"


@pytest.fixture(scope="session")
def screenshot() -> Callable[[Page, str], Path]:
    """Saves the whole page as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture()
def make_project(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    """A project made through the API with tasks imported, for tests about other pages."""

    def make(title: str, label_config: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
        created = api.post("/api/projects", json={"title": title, "label_config": label_config})
        assert created.status_code == 201, created.text
        project: dict[str, Any] = created.json()
        if tasks:
            imported = api.post(
                f"/api/projects/{project['id']}/import",
                content=json.dumps(tasks),
                headers={"Content-Type": "application/json"},
            )
            assert imported.status_code == 201, imported.text
        return project

    return make
