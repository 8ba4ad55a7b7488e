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


LANDMARK_RULES = ("region", "landmark-one-main", "landmark-no-duplicate-main", "landmark-unique",
                  "landmark-complementary-is-top-level", "page-has-heading-one")


def axe_landmarks(page_or_frame: Any) -> list[str]:
    """axe-core's landmark findings, whatever their impact (moderate ones included). Run after run_axe."""
    result = page_or_frame.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v["id"] for v in result["violations"] if v["id"] in LANDMARK_RULES]


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


# --- Added for the XSS and partner-mode tests (tests/browser/test_xss.py, test_partner_modes.py) ---

# Installed in every frame before its scripts: CSP violations are reported through the `__csp` binding
# (an injection that the CSP stopped is still an injection).
_WATCH_INIT = """
document.addEventListener('securitypolicyviolation', function (e) {
  if (window.__csp) window.__csp(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
});
"""


class Watched:
    """A browser context that records script execution (`window.__xss(n)`), dialogs, CSP violations,
    console messages and every request, in all the frames of its page.

    `__xss` and `__csp` are Playwright bindings: they exist in every frame (whatever its origin or CSP)
    before any of its scripts run, and report to Python.
    """

    def __init__(self, browser: Any, bypass_csp: bool = False, width: int = 420, height: int = 800) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR",
                                           bypass_csp=bypass_csp)
        self.hits: list[tuple[str, Any]] = []
        self.dialogs: list[str] = []
        self.violations: list[tuple[str, str]] = []
        self.requests: list[tuple[str, str]] = []
        self.console: list[str] = []
        self.context.expose_binding("__xss", lambda source, n=None: self.hits.append((source["frame"].url, n)))
        self.context.expose_binding("__csp", lambda source, what="": self.violations.append((source["frame"].url,
                                                                                              what)))
        self.context.add_init_script(_WATCH_INIT)
        self.context.on("request", lambda r: self.requests.append((r.url, r.resource_type)))
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def off_host(self) -> list[tuple[str, str]]:
        from urllib.parse import urlsplit

        return [(u, t) for u, t in self.requests
                if urlsplit(u).scheme not in ("data", "about", "blob") and urlsplit(u).hostname != "127.0.0.1"]

    def settle(self) -> None:
        """Let pending handlers (image errors, toggles, focus) run, then flush the bindings' reports."""
        self.page.wait_for_timeout(60)
        self.page.evaluate("1")

    def close(self) -> None:
        self.context.close()


def frame_grid(page: Any, host_url: str, srcs: list[str], timeout_ms: int = 60_000) -> list[Any]:
    """Open `host_url` (any page of the host's origin), replace its document by one iframe per URL of
    `srcs` and wait until they have all loaded; the frames, in the order of `srcs`."""
    import html as _html

    page.goto(host_url)
    frames = "".join(f'<iframe name="g{i}" src="{_html.escape(src)}" width="420" height="200"></iframe>'
                     for i, src in enumerate(srcs))
    page.set_content(f'<!doctype html><html lang="fr"><title>Grille</title><body>{frames}</body></html>',
                     wait_until="load", timeout=timeout_ms)
    return [page.frame(name=f"g{i}") for i in range(len(srcs))]


class LateApp:
    """An ASGI app set after its server has chosen its port (the partners file needs the host page's
    origin, and the host pages need the widget's)."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def edit_search(frame) -> None:
    """Unfold the search form when it is folded into its one-line summary (phone first)."""
    box = frame.locator("#w-fbox")
    if box.get_attribute("open") is None:   # works without JavaScript too: <details> is native
        frame.locator("#w-fsum").click()
        box.locator("#w-form").wait_for(state="visible")
