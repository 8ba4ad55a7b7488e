"""Security headers on every response, and the partner gate with CORS on the API.

Two pure ASGI middlewares, each computing its constant headers once at start-up (like
Starlette's CORSMiddleware) so a request only pays for a few list appends:

- SecurityHeadersMiddleware: nosniff, referrer and permissions policies everywhere; a strict
  default CSP on HTML pages that did not set their own (the widget page sets its own, with the
  partner's `frame-ancestors`); `Cross-Origin-Resource-Policy: cross-origin` on what partner pages
  load from us (the loader, static assets, the widget page).
- PartnerAccessMiddleware: on /api/ paths, answers CORS preflights, refuses (403) what the
  partner registry refuses, and adds `Access-Control-Allow-Origin` from the same registry.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from widget_server.caller import request_caller
from widget_server.errors import ServiceError
from widget_server.partners import PartnerRegistry
from widget_server.web.responses import error_response

DEFAULT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
               "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'; "
               "object-src 'none'")
# The API docs page keeps its CSS inline in its template (no script): allow that page only.
CSP_BY_PATH = {"/api/docs": DEFAULT_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")}
# Geolocation stays open to our own pages: the widget's "autour de moi" needs it when the
# partner's iframe delegates it (allow="geolocation"); nothing we serve uses the rest.
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(self), gyroscope=(), magnetometer=(), "
                      "microphone=(), payment=(), usb=()")
# What partner pages load from us, so it must stay loadable under their COEP.
CROSS_ORIGIN_EXACT = ("/widget.js", "/widget")
CROSS_ORIGIN_PREFIXES = ("/static/",)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, csp: str = DEFAULT_CSP, csp_by_path: dict[str, str] | None = None,
                 permissions_policy: str = PERMISSIONS_POLICY) -> None:
        self.app = app
        paths = CSP_BY_PATH if csp_by_path is None else csp_by_path
        self.csp_by_path = {path: value.encode("latin-1") for path, value in paths.items()}
        self.always = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"permissions-policy", permissions_policy.encode("latin-1")),
        ]
        self.csp = csp.encode("latin-1")
        # For browsers that predate frame-ancestors; only sent with our default CSP, never
        # beside the widget page's own (which lets partners frame it).
        self.frame_options = (b"x-frame-options", b"SAMEORIGIN")
        self.corp = (b"cross-origin-resource-policy", b"cross-origin")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        cross_origin = path in CROSS_ORIGIN_EXACT or path.startswith(CROSS_ORIGIN_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.always if h[0] not in present)
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html") and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", self.csp_by_path.get(path, self.csp)))
                    if self.frame_options[0] not in present:
                        headers.append(self.frame_options)
                if cross_origin and self.corp[0] not in present:
                    headers.append(self.corp)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PartnerAccessMiddleware:
    """The registry's decisions on the API: 403 for refused callers or origins, CORS for the rest."""

    def __init__(self, app: ASGIApp, registry: PartnerRegistry, *, prefix: str = "/api/",
                 max_age: int = 600) -> None:
        self.app = app
        self.registry = registry
        self.prefix = prefix
        self.preflight_headers = {
            "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": "Accept, Accept-Language, Content-Language, Content-Type, If-None-Match",
            "Access-Control-Max-Age": str(max_age),
            "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        caller = request_caller(scope)
        # The widget page calls the API from our own origin: that is never a partner's decision.
        foreign = None if origin is None or _same_origin(origin, headers.get("host")) else origin
        try:
            self.registry.check(caller, foreign)
        except ServiceError as exc:
            await error_response(exc)(scope, receive, send)
            return
        allow_origin = self.registry.cors_origin(caller, origin)
        if scope["method"] == "OPTIONS" and origin and "access-control-request-method" in headers:
            preflight = dict(self.preflight_headers)
            if allow_origin:
                preflight["Access-Control-Allow-Origin"] = allow_origin
            await Response(status_code=204, headers=preflight)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if allow_origin is not None:
                    out["Access-Control-Allow-Origin"] = allow_origin
                    out.append("Access-Control-Expose-Headers", "ETag, Retry-After")
                if allow_origin != "*":
                    # The answer depends on the Origin: shared caches must keep one copy per origin.
                    out.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _same_origin(origin: str, host: str | None) -> bool:
    _, _, netloc = origin.partition("://")
    return host is not None and netloc.lower() == host.lower()
