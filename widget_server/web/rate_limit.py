"""Token-bucket rate limits per client address and per caller, answering 429 with Retry-After.

Each client address and each caller has a bucket of `burst` tokens refilled at `rate` per second;
a request takes one token. Buckets live in a bounded TTL cache whose time-to-live is the time a
bucket needs to refill completely: an evicted bucket would have been full again, so forgetting it
changes nothing, and memory stays bounded whatever the number of clients.

A registered partner's own budget is spent only by requests that come from one of its pages:
an Origin (or a Referer) on one of its allowed origins, or, for the widget page, the
`parent_origin` the loader adds when it is one of them. Anything else naming that partner (a
script with no Origin, another site) draws from a separate bucket, "<caller>:anon", with the
same rate: whoever floods under a partner's name cannot make its real visitors get 429s.

Buckets live in the process, so with `--workers N` (or N hosts) a client gets up to N times the
rate, unless WIDGET_REDIS_URL names a Redis: then every worker of every host takes its tokens
there (`rate_redis.py`), and falls back to its own buckets while Redis is unreachable.
"""

from __future__ import annotations

import ipaddress
import math
import time
from typing import Callable, Sequence
from urllib.parse import urlsplit

from cachetools import TTLCache
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from widget_server.caller import request_caller
from widget_server.errors import RateLimited
from widget_server.partners import Partner, PartnerRegistry
from widget_server.web.rate_redis import Draw, RedisBuckets
from widget_server.web.responses import error_response

# Health checks and scrapes must never be refused; static files are cheap and cached by browsers.
EXEMPT_PATHS = ("/healthz", "/metrics", "/widget.js")
EXEMPT_PREFIXES = ("/static/",)
MAX_BUCKETS = 100_000   # about 10 MB at most


class TokenBuckets:
    """Buckets by key, all with the same default rate and burst unless a take() says otherwise."""

    def __init__(self, rate: float, burst: int, *, max_fill_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic, maxsize: int = MAX_BUCKETS) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        ttl = max_fill_s if max_fill_s is not None else self.burst / rate if rate > 0 else 1.0
        self.clock = clock
        self._buckets: TTLCache[str, list[float]] = TTLCache(maxsize, max(ttl, 1.0), timer=clock)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, rate: float | None = None, burst: int | None = None) -> float:
        """Take a token for `key`: 0.0 if there was one, else the seconds until there is."""
        rate = rate or self.rate
        burst = burst or self.burst
        now = self.clock()
        bucket = self._buckets.get(key)
        tokens = burst if bucket is None else min(burst, bucket[0] + (now - bucket[1]) * rate)
        if tokens >= 1.0:
            # Re-inserted on every take: a TTLCache entry's life starts when it is set.
            self._buckets[key] = [tokens - 1.0, now]
            return 0.0
        self._buckets[key] = [tokens, now]
        return (1.0 - tokens) / rate

    def __len__(self) -> int:
        return len(self._buckets)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, per_ip: tuple[float, int], per_caller: tuple[float, int],
                 registry: PartnerRegistry | None = None, trust_proxy: bool = False, proxy_hops: int = 1,
                 shared: RedisBuckets | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.registry = registry or PartnerRegistry()
        self.trust_proxy = trust_proxy
        self.proxy_hops = proxy_hops
        self.by_ip = TokenBuckets(*per_ip, clock=clock)
        # A partner's own rate may refill slower than the default: keep its bucket long enough.
        fills = [p.burst / p.rate for p in self.registry.partners.values() if p.rate and p.burst]
        default_fill = per_caller[1] / per_caller[0] if per_caller[0] > 0 else 1.0
        self.by_caller = TokenBuckets(*per_caller, max_fill_s=max([default_fill, *fills]), clock=clock)
        self.shared = shared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        draws = self.draws(scope)
        wait: float | None = None
        if draws and self.shared is not None:
            wait = await self.shared.take(draws)
        if wait is None:   # no Redis, or Redis unreachable: the process's own buckets count
            wait = self.take_local(draws)
        if wait:
            await error_response(RateLimited(max(1, math.ceil(wait))))(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def draws(self, scope: Scope) -> list[Draw]:
        """The buckets this request takes a token from, in order: its address's, then its caller's."""
        draws: list[Draw] = []
        if self.by_ip.enabled:
            draws.append(("ip", client_key(scope, self.trust_proxy, self.proxy_hops),
                          self.by_ip.rate, self.by_ip.burst))
        caller = request_caller(scope)
        if caller is not None:
            partner = self.registry.get(caller)
            key = caller if partner is None or from_partner_page(scope, partner) else f"{caller}:anon"
            if partner is not None and partner.rate:
                draws.append(("caller", key, partner.rate, partner.burst or self.by_caller.burst))
            elif self.by_caller.enabled:
                draws.append(("caller", key, self.by_caller.rate, self.by_caller.burst))
        return draws

    def take_local(self, draws: Sequence[Draw]) -> float:
        """Take from the process's buckets, stopping at the first empty one."""
        for family, key, rate, burst in draws:
            wait = (self.by_ip if family == "ip" else self.by_caller).take(key, rate, burst)
            if wait:
                return wait
        return 0.0


def _exempt(path: str) -> bool:
    return path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)


def from_partner_page(scope: Scope, partner: Partner) -> bool:
    """Does this request come from one of `partner`'s own pages (as far as a browser tells)?"""
    headers = Headers(scope=scope)
    for claimed in (headers.get("origin"), _referer_origin(headers.get("referer"))):
        if claimed and claimed != "null" and not _is_own_host(claimed, headers.get("host")):
            return partner.allows(claimed)
    if not scope["path"].startswith("/api/") and b"parent_origin=" in scope.get("query_string", b""):
        # The widget page is a navigation (no Origin); the loader says which page framed it, and
        # frame-ancestors makes the browser refuse any other framing page.
        parent = QueryParams(scope["query_string"]).get("parent_origin")
        return bool(parent) and partner.allows(parent or "")
    return False


def _referer_origin(referer: str | None) -> str | None:
    if not referer:
        return None
    try:
        parts = urlsplit(referer)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def _is_own_host(origin: str, host: str | None) -> bool:
    return host is not None and origin.partition("://")[2].lower() == host.lower()


def client_address(scope: Scope, trust_proxy: bool, proxy_hops: int = 1) -> str | None:
    """The client's address: the socket peer or, behind `proxy_hops` trusted proxies, the
    X-Forwarded-For entry the outermost of them added.

    Each proxy appends the address it saw to the end, so the last `proxy_hops` entries are the
    proxies' own words and everything before them is whatever the client wrote. Every header
    line counts, joined in order: a client may send its own line before the proxy's.
    """
    if trust_proxy:
        lines = Headers(scope=scope).getlist("x-forwarded-for")
        if lines:
            entries = [e.strip() for e in ",".join(lines).split(",")]
            hop = entries[-proxy_hops] if len(entries) >= proxy_hops else entries[0]
            if hop:
                return hop
    client = scope.get("client")
    return client[0] if client else None


def client_key(scope: Scope, trust_proxy: bool, proxy_hops: int = 1) -> str:
    """The bucket key of a client: its IPv4 address, or its IPv6 /64 (one host usually has a whole /64)."""
    address = client_address(scope, trust_proxy, proxy_hops)
    if address is None:
        return "-"
    if ":" in address:
        try:
            ip = ipaddress.IPv6Address(address)
        except ValueError:
            return address[:64]
        if ip.ipv4_mapped is not None:   # an IPv4 client seen through a dual-stack socket
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False).network_address) + "/64"
    return address[:64]
