"""Helpers shared by the browser tests: find the widget's frame, read the host page's events, run axe."""

from __future__ import annotations

from typing import Any

from widget_server.settings import PROJECT_ROOT

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"


def widget_frame(page: Any, index: int = 0) -> Any:
    """The index-th widget iframe's Frame, once its first results (or its form) are there."""
    handle = page.locator("iframe").nth(index).element_handle(timeout=10_000)
    frame = handle.content_frame()
    frame.wait_for_selector("#w-status", timeout=10_000)
    return frame


def events(page: Any, kind: str | None = None) -> list[dict[str, Any]]:
    found = page.evaluate("window.events")
    return [e for e in found if kind is None or e["type"] == kind]


def wait_event(page: Any, kind: str, count: int = 1) -> list[dict[str, Any]]:
    page.wait_for_function(f"window.events.filter(e => e.type === '{kind}').length >= {count}", timeout=10_000)
    return events(page, kind)


def run_axe(page_or_frame: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations (WCAG 2.1 A and AA rules, plus best practices)."""
    page_or_frame.add_script_tag(path=str(AXE))
    result = page_or_frame.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def until(frame: Any, expression: str, timeout_s: float = 10.0) -> Any:
    """Poll `expression` in a frame until it is truthy.

    wait_for_function would evaluate a string inside the page, which the widget's CSP (no
    'unsafe-eval') rightly refuses; evaluate() goes through the debugging protocol instead.
    """
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        value = frame.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {expression}")
        time.sleep(0.03)
