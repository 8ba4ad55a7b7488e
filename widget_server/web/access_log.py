"""Access log: one JSON line per request on the `widget_server.access` logger, with no personal data.

A line holds the method, the route template (never the raw path: an unmatched path is whatever
the client typed), the status, the duration, the caller, the client's network (IPv4 /24, IPv6
/48, never the full address) and the NAMES of the query parameters: free text such as `q` or
`job_name` is what people typed and is never written down.

    {"ts":"2026-11-29T10:00:00.123Z","method":"GET","route":"/api/v1/search","status":200,
     "duration_ms":12.3,"caller":"mon-site.fr","client":"203.0.113.0/24","params":["caller","romes"]}
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import sys
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from starlette.routing import Match
from starlette.types import Scope

from widget_server.caller import CALLER_RE, request_caller
from widget_server.web.rate_limit import client_address

LOGGER_NAME = "widget_server.access"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
MAX_PARAMS = 20
KNOWN_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})


def configure_access_log() -> logging.Logger:
    """The access logger, writing to stderr unless logging was already set up by someone else.

    uvicorn only configures its own loggers, so without this the lines would go nowhere; when
    the root logger has handlers (an application's config, pytest), the lines go there instead.
    """
    logger = logging.getLogger(LOGGER_NAME)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not logger.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    return logger


@lru_cache(maxsize=4096)
def client_network(address: str | None) -> str | None:
    """The client's network, not its address: IPv4 /24, IPv6 /48; None when it is not an IP."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def public_caller(caller: str | None) -> str | None:
    """The caller as it may be logged or labelled: an e-mail address keeps its domain only."""
    if caller is None:
        return None
    if not CALLER_RE.match(caller):
        return "(invalid)"
    if "@" in caller:
        return "*@" + caller.rsplit("@", 1)[1]
    return caller


def param_names(query_string: bytes) -> list[str]:
    """Sorted distinct parameter names; a name that could hide text is replaced by '(other)'."""
    if not query_string:
        return []
    # A refused, oversized query (414) is not worth parsing whole: its first names say enough.
    names = {k if _SAFE_NAME.match(k) else "(other)"
             for k, _ in parse_qsl(query_string[:4096].decode("latin-1"), keep_blank_values=True)}
    return sorted(names)[:MAX_PARAMS]


def route_template(scope: Scope) -> str:
    """The route's path template, or 'unmatched': never the raw path, which is whatever was typed."""
    route = scope.get("route")   # set by the router when the request got that far
    if route is None:
        # Answered before routing (403, 429, preflight): find the route it was meant for.
        routes = getattr(getattr(scope.get("app"), "router", None), "routes", ())
        route = next((r for r in routes if r.matches(scope)[0] != Match.NONE), None)
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


def method_label(scope: Scope) -> str:
    method: str = scope.get("method", "")
    return method if method in KNOWN_METHODS else "OTHER"


class AccessLog:
    """An observer for ObserveMiddleware: one JSON line per request, without personal data."""

    def __init__(self, *, trust_proxy: bool = False, proxy_hops: int = 1,
                 logger: logging.Logger | None = None) -> None:
        self.trust_proxy = trust_proxy
        self.proxy_hops = proxy_hops
        self.logger = logger or configure_access_log()

    def __call__(self, scope: Scope, status: int, seconds: float) -> None:
        if self.logger.isEnabledFor(logging.INFO):
            self.logger.info(json.dumps(self.line(scope, status, seconds), ensure_ascii=False,
                                        separators=(",", ":")))

    def line(self, scope: Scope, status: int, seconds: float) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        return {
            "ts": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "method": method_label(scope),
            "route": route_template(scope),
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "caller": public_caller(request_caller(scope)),
            "client": client_network(client_address(scope, self.trust_proxy, self.proxy_hops)),
            "params": param_names(scope.get("query_string", b"")),
        }
