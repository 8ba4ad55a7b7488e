"""Real Chromium against the real app: the service on one 127.0.0.1 port, partner pages on another.

Two origins, as in production: the host pages embed the widget from the
service's origin, so every message crosses an origin boundary and the origin
checks are exercised for real.  Every page records its requests; a test fails
if any of them leaves 127.0.0.1.
"""

from __future__ import annotations

import html
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from widget_server.app import create_app
from widget_server.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Records every widget event the page hears (they bubble to the document), and keeps the page in place
# on "navigate" so that a test can read what it carried.
RECORDER = """<script>
window.events = [];
['ready', 'search', 'result-click', 'navigate', 'error', 'resize'].forEach(function (type) {
  document.addEventListener('alternance:' + type, function (e) {
    if (type === 'navigate') e.preventDefault();
    window.events.push({type: type, detail: e.detail, target: e.target.id || e.target.className});
  });
});
</script>"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThreadedServer:
    """uvicorn in a background thread (lifespan included), stopped at the end of the session."""

    def __init__(self, app: Any) -> None:
        self.port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _attrs(params: Any) -> str:
    return "".join(f' data-{html.escape(k.replace("_", "-"))}="{html.escape(v)}"' for k, v in params.multi_items())


def host_app(widget_origin: str) -> Starlette:
    """A partner's site: pages that embed the widget from the other origin, configured by their query string."""

    async def container(request: Request) -> HTMLResponse:
        return HTMLResponse(f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Partenaire</title>{RECORDER}</head>
<body><h1>Site partenaire</h1><div id="box" data-alternance-widget{_attrs(request.query_params)}></div>
<p id="after">Après le widget</p><script src="{widget_origin}/widget.js" async></script></body></html>""")

    async def script_tag(request: Request) -> HTMLResponse:
        return HTMLResponse(f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Partenaire</title>
{RECORDER}</head><body><h1>Site partenaire</h1>
<script id="loader" src="{widget_origin}/widget.js"{_attrs(request.query_params)} async></script>
<p id="after">Après le widget</p></body></html>""")

    async def two(request: Request) -> HTMLResponse:
        return HTMLResponse(f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Deux</title>{RECORDER}
</head><body><div id="a" data-alternance-widget data-caller="hote" data-romes="D1102" data-insee="69123"></div>
<div id="b" data-alternance-widget data-caller="hote" data-romes="G1602" data-insee="75056" data-scope="training"
 data-theme="dark"></div><script src="{widget_origin}/widget.js" async></script></body></html>""")

    async def long(request: Request) -> HTMLResponse:
        # A partner page with a long introduction: the widget starts below the first screen.
        return HTMLResponse(f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Long</title>{RECORDER}</head>
<body><h1>Site partenaire</h1><div id="intro" style="height:1200px">Introduction</div>
<div id="box" data-alternance-widget{_attrs(request.query_params)}></div>
<div style="height:2000px"></div><script src="{widget_origin}/widget.js" async></script></body></html>""")

    return Starlette(routes=[Route("/container", container), Route("/script", script_tag), Route("/two", two),
                             Route("/long", long)])


@pytest.fixture(scope="session")
def widget_origin(dataset_path: Path) -> Iterator[str]:
    app = create_app(Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0))
    with ThreadedServer(app) as server:
        yield server.origin


@pytest.fixture(scope="session")
def host_origin(widget_origin: str) -> Iterator[str]:
    with ThreadedServer(host_app(widget_origin)) as server:
        yield server.origin


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    # Package scope, not session: Playwright's sync API keeps an event loop running in this thread
    # until it stops, and later tests (asyncio.run) need the thread back.
    import playwright.sync_api as playwright_api   # a test dependency: its absence is a failure

    if not Path(CHROMIUM).exists():
        # Outside CI a developer may run the suite without the browser; in CI a
        # missing browser must fail, never quietly skip the browser tests.
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: ./dev test installs Debian's chromium")
        pytest.skip("Debian's Chromium is not installed (./dev test installs it)")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Recorded:
    """A page with what it asked the network for and what it printed to its console."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.requests: list[str] = []
        self.console: list[str] = []
        self.failed: list[str] = []
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("response", lambda r: self.failed.append(r.url) if r.status >= 400 else None)
        self.page = context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))

    def off_host(self) -> list[str]:
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "about", "blob") and urlsplit(u).hostname != "127.0.0.1"]


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """open_page(width=..., javascript=...) -> Recorded; checks at the end that nothing left 127.0.0.1."""
    opened: list[Recorded] = []

    def factory(width: int = 420, height: int = 800, javascript: bool = True, bypass_csp: bool = False) -> Recorded:
        # bypass_csp only for axe: add_script_tag inserts an inline script, which our CSP rightly refuses.
        context = browser.new_context(viewport={"width": width, "height": height}, java_script_enabled=javascript,
                                      locale="fr-FR", bypass_csp=bypass_csp)
        recorded = Recorded(context)
        opened.append(recorded)
        return recorded

    yield factory
    for recorded in opened:
        recorded.context.close()
    for recorded in opened:
        assert recorded.off_host() == [], "requests left 127.0.0.1"
