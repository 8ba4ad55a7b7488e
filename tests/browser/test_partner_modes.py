"""Partner modes end to end in Chromium: the registry's origins decide who may frame the widget and where
it posts its messages.

Two partner sites run on two 127.0.0.1 ports: "allowed" is the only origin registered for the caller
`partenaire-ok`, "other" is registered for nobody. Two services read that registry: one in strict mode,
one in open mode. The session's service (no registry, open: the default) shows that any caller works.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode

import httpx
import pytest
from contract import check_response
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from test_errors import assert_error_shape

from widget_server.app import create_app
from widget_server.settings import Settings

from .browser_tools import LateApp, Watched, events, until, wait_event, widget_frame, edit_search
from .conftest import RECORDER, ThreadedServer, _attrs

pytestmark = pytest.mark.browser

PARTNER = "partenaire-ok"
SEARCH = {"romes": "M1805", "insee": "31555"}     # 33 formations around Toulouse: "Voir plus"

# In the widget's frames (and only there), `window.parent` is wrapped so that every postMessage the widget
# sends is reported (`__pm`) with its target origin, then sent for real. In the partner's page, every
# message received is reported (`__got`) with the origin it came from.
SPY = """(() => {
  if (location.origin === %(widget)r && window.parent !== window) {
    const real = window.parent;
    const spy = {postMessage: function (message, target) {
      window.__pm(String(typeof target === 'object' ? JSON.stringify(target) : target), message && message.type);
      return real.postMessage.apply(real, arguments);
    }};
    Object.defineProperty(window, 'parent', {get: () => spy, configurable: true});
  }
  if (window.top === window && location.origin !== %(widget)r) {
    window.addEventListener('message', e => window.__got(e.origin, e.data && e.data.type), true);
  }
})();"""


def partner_site(services: dict[str, str]) -> Starlette:
    """A partner's pages: the loader in a container (`svc` names the service), and a plain iframe."""

    async def container(request: Request) -> HTMLResponse:
        params = request.query_params
        origin = services[params["svc"]]
        data = _attrs(type(params)([(k, v) for k, v in params.multi_items() if k != "svc"]))
        return HTMLResponse(f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Partenaire</title>
{RECORDER}</head><body><div id="box" data-alternance-widget{data}></div>
<script src="{origin}/widget.js" async></script></body></html>""")

    async def iframe(request: Request) -> HTMLResponse:
        src = html.escape(request.query_params["src"])
        return HTMLResponse(f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Iframe</title></head>
<body><iframe id="direct" src="{src}" title="Widget" style="width:100%;height:600px"></iframe></body></html>""")

    return Starlette(routes=[Route("/container", container), Route("/iframe", iframe)])


class Sites:
    strict: str
    open: str
    allowed: str
    other: str


@pytest.fixture(scope="module")
def sites(dataset_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    # The partners file names the allowed site's origin, the sites embed the services: ports first, apps after.
    strict_app, open_app = LateApp(), LateApp()
    strict_server, open_server = ThreadedServer(strict_app), ThreadedServer(open_app)
    services = {"strict": strict_server.origin, "open": open_server.origin}
    allowed_server, other_server = ThreadedServer(partner_site(services)), ThreadedServer(partner_site(services))
    partners = tmp_path_factory.mktemp("partners") / "partners.toml"
    partners.write_text(f'[partners."{PARTNER}"]\norigins = ["{allowed_server.origin}"]\n', encoding="utf-8")
    for late, mode in ((strict_app, "strict"), (open_app, "open")):
        late.app = create_app(Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0,
                                                partners_file=str(partners), partner_mode=mode))
    with strict_server, open_server, allowed_server, other_server:
        s = Sites()
        s.strict, s.open, s.allowed, s.other = (strict_server.origin, open_server.origin, allowed_server.origin,
                                                 other_server.origin)
        yield s


@pytest.fixture
def watch(browser: Any) -> Iterator[Any]:
    """watch(widget_origin) -> Watched with the postMessage spies; nothing may run, open a dialog or leave."""
    opened: list[Watched] = []

    def factory(widget_origin: str) -> Watched:
        w = Watched(browser)
        w.posted: list[tuple[str, str]] = []     # (target origin, type), from inside the widget
        w.received: list[tuple[str, str]] = []   # (event.origin, type), in the partner's page
        w.context.expose_binding("__pm", lambda source, target, kind: w.posted.append((target, kind)))
        w.context.expose_binding("__got", lambda source, origin, kind: w.received.append((origin, kind)))
        w.context.add_init_script(SPY % {"widget": widget_origin})
        w.responses: list[Any] = []
        w.page.on("response", lambda r: w.responses.append(r) if "/widget?" in r.url else None)
        opened.append(w)
        return w

    yield factory
    for w in opened:
        w.close()
    for w in opened:
        assert w.hits == [] and w.dialogs == []
        assert w.off_host() == [], "requests left 127.0.0.1"


def container(site: str, svc: str, **params: str) -> str:
    return f"{site}/container?{urlencode({'svc': svc, **params})}"


def widget_response(w: Watched) -> Any:
    found = [r for r in w.responses if r.request.resource_type == "document"]
    assert len(found) == 1, [r.url for r in found]
    return found[0]


def frame_ancestors(response: Any) -> str | None:
    csp = response.all_headers().get("content-security-policy", "")
    found = [d.strip()[len("frame-ancestors"):].strip() for d in csp.split(";")
             if d.strip().startswith("frame-ancestors")]
    return found[0] if found else None


def assert_blocked(w: Watched, ancestors: str) -> None:
    """The iframe is there, but Chromium refused to show the widget in it (CSP frame-ancestors `ancestors`)."""
    handle = w.page.locator("iframe").element_handle(timeout=10_000)
    refusal = f'"frame-ancestors {ancestors}"'
    for _ in range(100):          # Chromium says so in the partner page's console
        if any(refusal in line for line in w.console):
            break
        w.page.wait_for_timeout(50)
    assert any(refusal in line for line in w.console), w.console
    frame = handle.content_frame()
    shown = frame.evaluate("!!document.getElementById('w')") if frame and frame.url.startswith("http") else False
    assert not shown, f"the widget shows in a page it should not: {frame.url if frame else None}"
    w.page.wait_for_timeout(100)
    assert w.posted == [] and [m for m in w.received if m[1]] == []


def fetch_status(w: Watched, url: str) -> str:
    """What a script of the page gets when it reads `url` across origins: the status, or 'blocked' (CORS)."""
    return w.page.evaluate("u => fetch(u).then(r => String(r.status), () => 'blocked')", url)


# --- strict mode -----------------------------------------------------------------------------------

def test_strict_the_registered_partner_shows_the_widget(watch, sites):
    w = watch(sites.strict)
    w.page.goto(container(sites.allowed, "strict", caller=PARTNER, **SEARCH))
    frame = widget_frame(w.page)
    assert frame.locator(".sec[data-type=formations] .it").count() > 0
    assert frame.locator(".ntc").count() == 0
    wait_event(w.page, "ready")
    response = widget_response(w)
    assert response.status == 200
    assert frame_ancestors(response) == f"'self' {sites.allowed}"       # that origin, never *
    assert frame.evaluate("document.getElementById('w').dataset.parentOrigin") == sites.allowed
    # (d) every message the widget sent went to the partner's origin, none to "*"; the page heard them
    # from the widget's origin only.
    frame.locator(".sec[data-type=formations] summary").first.click()
    wait_event(w.page, "result-click")
    assert {kind for _, kind in w.posted} >= {"ready", "result-click"}
    assert {target for target, _ in w.posted} == {sites.allowed}
    ours = [m for m in w.received if m[1]]
    assert ours and {origin for origin, _ in ours} == {sites.strict}
    # New searches and "Voir plus" (/widget/results) work for the partner.
    edit_search(frame)
    frame.locator("#w-radius").select_option("60")
    frame.locator("button.go").click()
    until(frame, "document.getElementById('w-status').textContent.includes('60 km')")
    before = frame.locator(".sec[data-type=formations] .it").count()
    frame.locator(".sec[data-type=formations] a.more").click()
    until(frame, f"document.querySelectorAll('.sec[data-type=formations] .it').length > {before}")
    assert {target for target, _ in w.posted} == {sites.allowed}
    # Its pages may read the API (CORS names its origin)...
    assert fetch_status(w, f"{sites.strict}/api/v1/search?{urlencode({'caller': PARTNER, **SEARCH, 'limit': 1})}") \
        == "200"
    api = httpx.get(f"{sites.strict}/api/v1/search", params={"caller": PARTNER, **SEARCH, "limit": 1},
                    headers={"Origin": sites.allowed})
    assert api.headers["access-control-allow-origin"] == sites.allowed
    # ...but not with a caller nobody registered.
    assert fetch_status(w, f"{sites.strict}/api/v1/search?{urlencode({'caller': 'inconnu', **SEARCH})}") \
        == "blocked"


def test_strict_an_unknown_caller_gets_the_refusal(watch, sites):
    # Opened directly (a frame would be blocked: frame-ancestors 'none'), the page says why, in French.
    w = watch(sites.strict)
    w.page.goto(f"{sites.strict}/widget?{urlencode({'caller': 'inconnu', **SEARCH})}")
    response = widget_response(w)
    assert response.status == 403
    assert frame_ancestors(response) == "'none'"
    notice = w.page.locator(".ntc").inner_text()
    assert "pas autorisé" in notice and "inconnu" in notice
    assert w.page.locator(".it").count() == 0
    assert w.page.evaluate("document.getElementById('w').dataset.parentOrigin") == ""
    # Embedded by the registered partner's own page, an unknown caller is still refused.
    w2 = watch(sites.strict)
    w2.page.goto(container(sites.allowed, "strict", caller="inconnu", **SEARCH))
    assert_blocked(w2, "'none'")
    # Nor does it get results the widget's own way, with or without a caller.
    for params in ({"caller": "inconnu", **SEARCH}, SEARCH):
        fragment = httpx.get(f"{sites.strict}/widget/results", params=params)
        assert fragment.status_code == 403 and 'class="it ' not in fragment.text
    # The API: 403 in the error shape.
    api = httpx.get(f"{sites.strict}/api/v1/search", params={"caller": "inconnu", **SEARCH})
    error = assert_error_shape(api, 403)
    assert error["code"] == "unknown_caller"
    check_response("GET", "/api/v1/search", api)


def test_strict_another_origin_cannot_show_the_partners_widget(watch, sites):
    # (c) The loader on a page of an origin the partner did not register: the service refuses (403) and
    # the browser would not show it anyway.
    w = watch(sites.strict)
    w.page.goto(container(sites.other, "strict", caller=PARTNER, **SEARCH))
    assert_blocked(w, f"'self' {sites.allowed}")
    response = widget_response(w)
    assert response.status == 403 and frame_ancestors(response) == f"'self' {sites.allowed}"
    assert events(w.page, "ready") == []
    # A page that lies about its origin gets results from the service, and still nothing on screen:
    # frame-ancestors is what the browser enforces.
    w2 = watch(sites.strict)
    lying = f"{sites.strict}/widget?{urlencode({'caller': PARTNER, **SEARCH, 'parent_origin': sites.allowed})}"
    w2.page.goto(f"{sites.other}/iframe?{urlencode({'src': lying})}")
    assert_blocked(w2, f"'self' {sites.allowed}")
    response = widget_response(w2)
    assert response.status == 200 and frame_ancestors(response) == f"'self' {sites.allowed}"
    # Its scripts cannot read the API as the partner either.
    assert fetch_status(w2, f"{sites.strict}/api/v1/search?{urlencode({'caller': PARTNER, **SEARCH})}") == "blocked"
    api = httpx.get(f"{sites.strict}/api/v1/search", params={"caller": PARTNER, **SEARCH},
                    headers={"Origin": sites.other})
    assert assert_error_shape(api, 403)["code"] == "origin_not_allowed"


# --- open mode ---------------------------------------------------------------------------------------

def test_open_any_caller_works_anywhere_but_a_registered_one_keeps_its_origins(watch, sites):
    w = watch(sites.open)
    w.page.goto(container(sites.other, "open", caller="n-importe-quel-site.fr", **SEARCH))
    frame = widget_frame(w.page)
    assert frame.locator(".sec[data-type=formations] .it").count() > 0
    wait_event(w.page, "ready")
    response = widget_response(w)
    assert response.status == 200 and frame_ancestors(response) is None     # frameable by anyone
    assert {target for target, _ in w.posted} == {sites.other}               # still never "*"
    # Registering protects a partner in open mode too.
    w2 = watch(sites.open)
    w2.page.goto(container(sites.other, "open", caller=PARTNER, **SEARCH))
    assert_blocked(w2, f"'self' {sites.allowed}")
    w3 = watch(sites.open)
    w3.page.goto(container(sites.allowed, "open", caller=PARTNER, **SEARCH))
    assert widget_frame(w3.page).locator(".it").count() > 0
    assert frame_ancestors(widget_response(w3)) == f"'self' {sites.allowed}"


def test_default_open_mode_without_registry_works_for_any_caller(watch, widget_origin, host_origin):
    w = watch(widget_origin)
    w.page.goto(f"{host_origin}/container?{urlencode({'caller': 'un-site-quelconque.fr', **SEARCH})}")
    frame = widget_frame(w.page)
    assert frame.locator(".sec[data-type=formations] .it").count() > 0 and frame.locator(".ntc").count() == 0
    wait_event(w.page, "ready")
    response = widget_response(w)
    assert response.status == 200 and frame_ancestors(response) is None
    assert w.posted and {target for target, _ in w.posted} == {host_origin}
    assert {origin for origin, kind in w.received if kind} == {widget_origin}
