"""HTTP side of the France Travail source: OAuth2 token, one `/offres/search` call, typed errors.

Errors (httpx-style: catch the base class, branch on the subclass if you care):

    UpstreamError                  France Travail could not give us offers
    ├── UpstreamTimeout            no answer in time (connect/read timeout, or the search budget)
    ├── UpstreamUnavailable        5xx, connection refused/reset, 429 after our bounded retries
    ├── UpstreamBadResponse        malformed JSON, unexpected schema, or a 4xx refusing our query
    ├── UpstreamAuthError          token endpoint failing or refusing us, 401 after one refresh, 403
    └── CircuitOpen                not called at all: the circuit breaker is open

Messages name the endpoint and status but never the client secret, the token or
a response body (a body may echo what we sent).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import httpx

if TYPE_CHECKING:
    from widget_server.sources.france_travail import FranceTravailSettings

log = logging.getLogger("widget_server.sources.france_travail")


class UpstreamError(Exception):
    """France Travail could not give us offers.  `status` is the HTTP status when there was one."""

    #: Whether this failure says something about the upstream's health (see the breaker).
    trips_breaker = True

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class UpstreamTimeout(UpstreamError):
    pass


class UpstreamUnavailable(UpstreamError):
    pass


class UpstreamBadResponse(UpstreamError):
    def __init__(self, message: str, *, status: int | None = None, trips_breaker: bool = True) -> None:
        super().__init__(message, status=status)
        # A 4xx refusing one query (a bad commune code...) says nothing about the
        # upstream's health: it must not open the circuit for everybody else.
        self.trips_breaker = trips_breaker


class UpstreamAuthError(UpstreamError):
    pass


class CircuitOpen(UpstreamError):
    trips_breaker = False

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# France Travail's documented paging limits: at most 150 offers per call, first index <= 3000.
MAX_RANGE = 150
MAX_FIRST_INDEX = 3000
# Never wait less than this between two 429s without a Retry-After (seconds, doubled each time).
BACKOFF_BASE_S = 0.5
_CONTENT_RANGE = re.compile(r"^\s*(?:\w+\s+)?(\d+)\s*-\s*(\d+)\s*/\s*(\d+|\*)\s*$")
# RFC 6749 section 5.2: the only error codes we repeat from a token endpoint's body.
_OAUTH_ERRORS = frozenset({"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                           "unsupported_grant_type", "invalid_scope"})


@dataclass
class RawPage:
    """One `/offres/search` answer: the raw offers and the total count when known."""

    offers: list[Any]
    total: int | None               # from Content-Range, when sent
    partial: bool = False           # HTTP 206: more offers than this range holds


@dataclass
class _Token:
    value: str = field(repr=False)
    refresh_at: float               # time.monotonic() after which we fetch a new one


def parse_content_range(header: str | None) -> int | None:
    """Total of `Content-Range: offres 0-149/9981` (None when absent, unknown or unparseable)."""
    if not header:
        return None
    match = _CONTENT_RANGE.match(header)
    if match is None or match.group(3) == "*":
        return None
    return int(match.group(3))


def parse_retry_after(header: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class FranceTravailClient:
    """Token handling and single search calls; no caching, paging or breaker here."""

    def __init__(self, settings: FranceTravailSettings, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
        self._http = httpx.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "widget-server (apprenticeship search)"},
        )
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"<FranceTravailClient api={self._settings.api_url!r}>"

    # -- token ---------------------------------------------------------------

    async def _token_value(self) -> _Token:
        token = self._token
        if token is not None and time.monotonic() < token.refresh_at:
            return token
        # Parallel calls (ROME chunks) share one token request instead of racing.
        async with self._token_lock:
            token = self._token
            if token is None or time.monotonic() >= token.refresh_at:
                token = self._token = await self._fetch_token()
            return token

    async def _fetch_token(self) -> _Token:
        s = self._settings
        form = {"grant_type": "client_credentials", "client_id": s.client_id,
                "client_secret": s.client_secret, "scope": s.scope}
        try:
            response = await self._http.post(s.token_url, data=form)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("France Travail token endpoint timed out") from exc
        except httpx.TransportError as exc:
            raise UpstreamAuthError(f"France Travail token endpoint unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise UpstreamAuthError(
                f"France Travail token endpoint answered HTTP {response.status_code}"
                f"{_oauth_error(response)}", status=response.status_code)
        try:
            body = response.json()
            value = body["access_token"]
            expires_in = float(body.get("expires_in", 60))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UpstreamAuthError("France Travail token endpoint sent an unusable answer",
                                    status=response.status_code) from None
        if not isinstance(value, str) or not value or expires_in <= 0:
            raise UpstreamAuthError("France Travail token endpoint sent an unusable answer",
                                    status=response.status_code)
        # Refresh shortly before the end (30 s early, or halfway for very short
        # tokens) so a token never expires between our check and FT's.
        lifetime = max(expires_in - 30.0, expires_in / 2)
        log.info("France Travail token obtained (valid %.0f s)", expires_in)
        return _Token(value, time.monotonic() + lifetime)

    def _forget(self, token: _Token) -> None:
        # Only forget the token that failed: a parallel call may have refreshed it already.
        if self._token is token:
            self._token = None

    # -- search ---------------------------------------------------------------

    async def search(self, params: Mapping[str, str], *, deadline: float) -> RawPage:
        """One `GET /offres/search`; `deadline` (time.monotonic) bounds the 429 back-off."""
        url = self._settings.api_url.rstrip("/") + "/offres/search"
        refreshed = False
        rate_limited = 0
        while True:
            token = await self._token_value()
            try:
                response = await self._http.get(url, params=params,
                                                headers={"Authorization": f"Bearer {token.value}"})
            except httpx.TimeoutException as exc:
                raise UpstreamTimeout("France Travail offers search timed out") from exc
            except httpx.TransportError as exc:
                raise UpstreamUnavailable(
                    f"France Travail offers search unreachable ({type(exc).__name__})") from exc
            status = response.status_code
            if status == 401 and not refreshed:
                # The token may have been revoked or expired early: one refresh, one retry.
                log.info("France Travail answered 401: refreshing the token once")
                self._forget(token)
                refreshed = True
                continue
            if status == 429:
                wait = self._backoff(response, rate_limited, deadline)
                if wait is None:
                    raise UpstreamUnavailable("France Travail rate limit (HTTP 429), retries exhausted",
                                              status=429)
                rate_limited += 1
                log.info("France Travail answered 429: retrying in %.2f s", wait)
                await asyncio.sleep(wait)
                continue
            return self._page(response)

    def _backoff(self, response: httpx.Response, attempt: int, deadline: float) -> float | None:
        """Seconds to wait before retrying a 429, or None to give up now."""
        if attempt >= self._settings.retries_on_429:
            return None
        asked = parse_retry_after(response.headers.get("Retry-After"))
        wait = BACKOFF_BASE_S * (2 ** attempt) if asked is None else asked
        # Keep room for the retry itself: at least one connect timeout's worth,
        # else waiting only to be cut off by the budget is wasted time.
        room = deadline - time.monotonic() - min(self._settings.connect_timeout, 0.25)
        if wait > room:
            return None
        return wait

    def _page(self, response: httpx.Response) -> RawPage:
        status = response.status_code
        if status == 204:
            return RawPage([], None)    # no offers in this range
        if status in (200, 206):
            try:
                body = response.json()
            except ValueError:
                raise UpstreamBadResponse(f"France Travail sent malformed JSON (HTTP {status})",
                                          status=status) from None
            offers = body.get("resultats") if isinstance(body, dict) else None
            if not isinstance(offers, list):
                raise UpstreamBadResponse(
                    f"France Travail answer has an unexpected schema (HTTP {status}: no 'resultats' list)",
                    status=status)
            total = parse_content_range(response.headers.get("Content-Range"))
            return RawPage(offers, total, partial=status == 206)
        if status >= 500:
            raise UpstreamUnavailable(f"France Travail offers search answered HTTP {status}", status=status)
        if status in (401, 403):
            raise UpstreamAuthError(f"France Travail refused our token (HTTP {status})", status=status)
        if 400 <= status < 500:
            raise UpstreamBadResponse(f"France Travail refused the query (HTTP {status})",
                                      status=status, trips_breaker=False)
        raise UpstreamBadResponse(f"France Travail answered an unexpected HTTP {status}", status=status)


def _oauth_error(response: httpx.Response) -> str:
    """The standard OAuth2 `error` code (e.g. invalid_client) when the body has one; never more."""
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    return f" ({code})" if isinstance(code, str) and code in _OAUTH_ERRORS else ""
