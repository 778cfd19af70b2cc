"""Script in task data never runs: the editor shows HyperText sanitized, and the page's
Content-Security-Policy (sent by single-process mode as by every edge) lets the app and the
editor work while refusing anything inline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labelops_runtime.security_headers import PAGE_CSP
from playwright.sync_api import Page, expect

from .conftest import PageErrors

HYPERTEXT = """<View>
  <HyperText name="page" value="$html"/>
  <Choices name="verdict" toName="page">
    <Choice value="Safe"/>
    <Choice value="Spam"/>
  </Choices>
</View>"""
HOSTILE = (
    '<p>Visible <b>bold</b> words <a href="javascript:window.__xss=3">link</a></p>'
    '<img src="x" onerror="window.__xss=1">'
    "<script>window.__xss=2</script>"
    '<svg><animate onbegin="window.__xss=4" attributeName="x" dur="1s"/></svg>'
)

#: Violations seen by the page itself, from the first script on (console errors are also
#: watched by the `page` fixture).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push({
    directive: event.violatedDirective, blocked: event.blockedURI, source: event.sourceFile,
  });
});
"""


def test_hostile_hypertext_is_shown_as_safe_text_and_runs_nothing(
    page: Page, make_project: Callable[..., dict[str, Any]], page_errors: PageErrors
) -> None:
    project_id = make_project("Hostile HyperText", HYPERTEXT, [{"data": {"html": HOSTILE}}])["id"]
    page.add_init_script(RECORD_VIOLATIONS)

    answer = page.goto(f"/projects/{project_id}/label")
    assert answer is not None
    assert answer.headers["content-security-policy"] == PAGE_CSP
    assert "script-src 'self';" in PAGE_CSP and "unsafe-inline" not in PAGE_CSP.split(";")[1]
    assert answer.headers["x-content-type-options"] == "nosniff"

    editor = page.get_by_role("region", name="Labeling editor")
    # The editor shows HyperText in a same-origin frame that may run script (its own
    # sandbox allows it), so what is written into that frame must already be safe.
    shown = editor.frame_locator("iframe.lsf-richtext__iframe")
    expect(shown.get_by_text("Visible")).to_be_visible()
    expect(shown.locator("b", has_text="bold")).to_be_visible()
    expect(editor.get_by_text("Spam")).to_be_visible()
    link = shown.get_by_text("link")
    expect(link).to_be_visible()
    assert "javascript:" not in (link.get_attribute("href") or "")
    for frame in editor.locator("iframe[srcdoc]").all():
        srcdoc = frame.get_attribute("srcdoc") or ""
        assert "onerror" not in srcdoc and "onbegin" not in srcdoc and "<script" not in srcdoc
    assert shown.locator("[onerror], [onbegin], script").count() == 0

    # The editor keeps working: a choice can be made and submitted.
    editor.get_by_text("Spam").click()
    link.click()
    page.wait_for_timeout(500)
    # Neither the page nor the editor's frames ran any of it.
    assert [frame.evaluate("window.__xss") for frame in page.frames] == [None] * len(page.frames)
    # Chromium reports the handlers of the hostile HTML as refused while the sanitizer parses
    # it in an inert document (where they would not run either; DOMPurify issue #900), one
    # per handler. Nothing else may be refused: no script, style, font or request the app
    # or the editor needs.
    violations = page.evaluate("window.__cspViolations")
    assert 0 < len(violations) <= 2
    assert {(v["directive"], v["blocked"]) for v in violations} == {("script-src-attr", "inline")}
    refused_handlers = [e for e in page_errors.errors if "inline event handler" in e]
    assert len(refused_handlers) == len(violations)
    page_errors.errors[:] = [e for e in page_errors.errors if e not in refused_handlers]
