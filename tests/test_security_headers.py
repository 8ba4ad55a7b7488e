"""Security headers: on every answer, a strict CSP on HTML pages that have none, CORP for what partners load."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from widget_server.web.security_headers import DEFAULT_CSP, SecurityHeadersMiddleware

ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def _tiny_app() -> TestClient:
    async def page(request):
        return HTMLResponse("<p>bonjour</p>")

    async def own_csp(request):
        return HTMLResponse("<p>widget</p>", headers={"Content-Security-Policy": "frame-ancestors https://a.fr",
                                                      "Referrer-Policy": "no-referrer"})

    async def script(request):
        return Response("/* loader */", media_type="text/javascript")

    async def text(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/page", page), Route("/widget", own_csp), Route("/widget.js", script),
                            Route("/static/app.css", text), Route("/other", text)])
    return TestClient(SecurityHeadersMiddleware(app))


def _assert_always(response):
    for name, value in ALWAYS.items():
        assert response.headers[name] == value, name
    policy = response.headers["permissions-policy"]
    assert "camera=()" in policy and "microphone=()" in policy and "geolocation=(self)" in policy


def test_json_answers_have_the_headers_but_no_csp(client):
    for path in ("/healthz", "/api/v1/metiers?q=boul", "/api/v1/metiers", "/nope"):   # 200, 400, 404
        r = client.get(path)
        _assert_always(r)
        assert "content-security-policy" not in r.headers


def test_html_pages_get_the_default_csp(client):
    r = client.get("/api/docs")
    _assert_always(r)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["x-frame-options"] == "SAMEORIGIN"


def test_default_csp_has_no_inline_script_and_no_third_party():
    directives = dict(d.strip().split(" ", 1) for d in DEFAULT_CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["connect-src"] == "'self'"
    assert directives["base-uri"] == "'none'" and directives["object-src"] == "'none'"


def test_a_page_with_its_own_csp_keeps_it():
    client = _tiny_app()
    r = client.get("/widget")
    assert r.headers["content-security-policy"] == "frame-ancestors https://a.fr"
    assert r.headers["referrer-policy"] == "no-referrer"      # a handler's stricter choice wins
    assert "x-frame-options" not in r.headers                  # it would fight the partner list
    assert client.get("/page").headers["content-security-policy"] == DEFAULT_CSP


def test_what_partners_load_is_cross_origin_readable():
    client = _tiny_app()
    for path in ("/widget.js", "/static/app.css", "/widget"):
        assert client.get(path).headers["cross-origin-resource-policy"] == "cross-origin", path
    assert "cross-origin-resource-policy" not in client.get("/other").headers
    _assert_always(client.get("/widget.js"))


def test_error_answers_from_middlewares_have_the_headers(dataset_path, tmp_path):
    from conftest import make_client

    from widget_server.app import create_app
    from widget_server.settings import Settings

    partners = tmp_path / "partners.toml"
    partners.write_text('[partners."a.fr"]\norigins = ["https://a.fr"]\n', encoding="utf-8")
    settings = Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0, partners_file=str(partners),
                                 partner_mode="strict", rate_per_ip=1.0, rate_burst_per_ip=1)
    with make_client(create_app(settings)) as client:
        forbidden = client.get("/api/v1/metiers", params={"q": "boul"}, headers={"Origin": "https://b.fr"})
        assert forbidden.status_code == 403
        _assert_always(forbidden)
        client.get("/api/v1/metiers", params={"q": "boul"})
        limited = client.get("/api/v1/metiers", params={"q": "boul"})
        assert limited.status_code == 429
        _assert_always(limited)


def _gated(mode: str = "open") -> TestClient:
    from widget_server.partners import Partner, PartnerRegistry, parse_origin
    from widget_server.web.security_headers import PartnerAccessMiddleware

    async def ok(request):
        return PlainTextResponse("ok", headers={"Vary": "Accept-Encoding"})

    origin = parse_origin("https://www.a.fr")
    assert origin is not None
    registry = PartnerRegistry({"a.fr": Partner("a.fr", (origin,))}, mode)
    app = Starlette(routes=[Route("/api/v1/search", ok, methods=["GET", "OPTIONS"]), Route("/page", ok)])
    return TestClient(PartnerAccessMiddleware(app, registry, max_age=123))


def test_the_partner_gate_answers_cors_from_the_registry():
    client = _gated()
    anyone = client.get("/api/v1/search?caller=x", headers={"Origin": "https://b.fr"})
    assert anyone.status_code == 200 and anyone.headers["access-control-allow-origin"] == "*"
    assert anyone.headers["access-control-expose-headers"] == "ETag, Retry-After"
    assert anyone.headers["vary"] == "Accept-Encoding"              # "*" does not depend on the Origin
    own = client.get("/api/v1/search?caller=a.fr", headers={"Origin": "https://www.a.fr"})
    assert own.headers["access-control-allow-origin"] == "https://www.a.fr"
    assert own.headers["vary"] == "Accept-Encoding, Origin"
    refused = client.get("/api/v1/search?caller=a.fr", headers={"Origin": "https://b.fr"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin_not_allowed"
    # Our own widget page calls the API from our host: that is not a partner's decision.
    same = client.get("/api/v1/search?caller=a.fr", headers={"Origin": "http://TestServer", "Host": "testserver"})
    assert same.status_code == 200
    # Outside /api/ the gate does nothing.
    page = client.get("/page?caller=a.fr", headers={"Origin": "https://b.fr"})
    assert page.status_code == 200 and "access-control-allow-origin" not in page.headers


def test_the_partner_gate_answers_preflights():
    client = _gated()
    preflight = client.options("/api/v1/search?caller=a.fr", headers={
        "Origin": "https://www.a.fr", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://www.a.fr"
    assert preflight.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert "If-None-Match" in preflight.headers["access-control-allow-headers"]
    assert preflight.headers["access-control-max-age"] == "123"
    assert preflight.headers["vary"] == "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    strict = _gated("strict")
    unknown = strict.options("/api/v1/search", headers={"Origin": "https://b.fr", "Access-Control-Request-Method": "GET"})
    assert unknown.status_code == 403
    no_caller = strict.options("/api/v1/search", headers={"Origin": "https://www.a.fr",
                                                          "Access-Control-Request-Method": "GET"})
    assert no_caller.status_code == 204 and no_caller.headers["access-control-allow-origin"] == "https://www.a.fr"
    # Without Access-Control-Request-Method an OPTIONS is no preflight: the route answers it.
    plain = client.options("/api/v1/search?caller=a.fr", headers={"Origin": "https://www.a.fr"})
    assert plain.status_code == 200 and plain.text == "ok"
    assert strict.get("/api/v1/search?caller=zz").status_code == 403


def test_csp_by_path_frame_options_and_an_explicit_policy():
    async def page(request):
        return HTMLResponse("<p>x</p>")

    async def framed(request):
        return HTMLResponse("<p>x</p>", headers={"X-Frame-Options": "DENY"})

    app = Starlette(routes=[Route("/api/docs", page), Route("/framed", framed), Route("/p", page)])
    client = TestClient(SecurityHeadersMiddleware(app))
    docs = client.get("/api/docs").headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in docs and "script-src 'self';" in docs
    assert client.get("/p").headers["content-security-policy"] == DEFAULT_CSP
    assert client.get("/framed").headers["x-frame-options"] == "DENY"
    custom = TestClient(SecurityHeadersMiddleware(app, csp="default-src 'none'", csp_by_path={},
                                                  permissions_policy="camera=()"))
    assert custom.get("/api/docs").headers["content-security-policy"] == "default-src 'none'"
    assert custom.get("/p").headers["permissions-policy"] == "camera=()"


def test_a_handlers_own_headers_are_kept_and_never_doubled():
    async def own(request):
        return HTMLResponse("<p>x</p>", headers={
            "X-Content-Type-Options": "nosniff", "Permissions-Policy": "camera=(self)",
            "Cross-Origin-Resource-Policy": "same-site", "X-Frame-Options": "DENY"})

    app = Starlette(routes=[Route("/widget.js", own), Route("/page", own)])
    client = TestClient(SecurityHeadersMiddleware(app))
    for path in ("/widget.js", "/page"):
        r = client.get(path)
        for name, value in (("x-content-type-options", "nosniff"), ("permissions-policy", "camera=(self)"),
                            ("x-frame-options", "DENY")):
            assert r.headers.get_list(name) == [value], (path, name)
    assert client.get("/widget.js").headers.get_list("cross-origin-resource-policy") == ["same-site"]
    plain = _tiny_app().get("/page")
    assert plain.headers.get_list("x-frame-options") == ["SAMEORIGIN"]


def test_raw_asgi_answers_without_headers_or_with_capitalised_names():
    async def bare(scope, receive, send):
        if scope["path"] == "/bare":
            await send({"type": "http.response.start", "status": 204})
        else:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"Content-Type", b"text/html; charset=utf-8")]})
        await send({"type": "http.response.body", "body": b""})

    client = TestClient(SecurityHeadersMiddleware(bare))
    r = client.get("/bare")
    assert r.status_code == 204 and r.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in r.headers
    assert client.get("/html").headers["content-security-policy"] == DEFAULT_CSP


def test_the_partner_gate_defaults_and_exact_preflight_headers():
    from widget_server.partners import PartnerRegistry
    from widget_server.web.security_headers import PartnerAccessMiddleware

    async def ok(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/api/x", ok, methods=["GET", "OPTIONS"])])
    client = TestClient(PartnerAccessMiddleware(app, PartnerRegistry()))
    r = client.options("/api/x", headers={"Origin": "https://b.fr", "Access-Control-Request-Method": "GET"})
    assert r.headers["access-control-max-age"] == "600"
    assert r.headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Content-Language, Content-Type, If-None-Match")
    assert r.headers["access-control-allow-origin"] == "*"
