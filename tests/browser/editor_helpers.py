"""What the browser tests need to point at things inside the Label Studio editor (1.4.0)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator


def word_center(scope: Locator, word: str) -> tuple[float, float]:
    """Where `word` is drawn on screen, measured with a DOM Range over its text node."""
    point = scope.evaluate(
        """(root, word) => {
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.textContent.indexOf(word);
                if (at < 0) continue;
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + word.length);
                const rect = range.getBoundingClientRect();
                if (rect.width > 0) return [rect.x + rect.width / 2, rect.y + rect.height / 2];
            }
            return null;
        }""",
        word,
    )
    assert point is not None, f"{word!r} is not shown"
    return float(point[0]), float(point[1])


def region_count(editor: Locator) -> Locator:
    """The editor's own count of regions in the current annotation (Label Studio 1.4.0)."""
    return editor.locator(".lsf-entities__counter")


def poll(read: Callable[[], Any], check: Callable[[Any], bool], seconds: float = 10) -> Any:
    """`read()` again until `check` accepts its value or `seconds` pass; the last value."""
    deadline = time.monotonic() + seconds
    value = read()
    while not check(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value
