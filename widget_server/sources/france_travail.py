"""Live apprenticeship offers from France Travail ("Offres d'emploi v2"), cached and fault-tolerant.

One search becomes one or more `GET /offres/search` calls (ROME codes in chunks,
run in parallel; pages fetched in aligned blocks so that paging hits the cache),
all inside one time budget.  Errors are typed (see france_travail_client):

    UpstreamError -> UpstreamTimeout | UpstreamUnavailable | UpstreamBadResponse
                     | UpstreamAuthError | CircuitOpen

Layers, outermost first: budget (asyncio.timeout) -> response cache (TTL, keyed
by the normalised upstream query) -> circuit breaker (only when the cache
misses) -> client (token, 401 refresh, 429 back-off) -> mapping to `Item`.
docs/france-travail.md explains the settings, faults and the breaker.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Mapping, Sequence, TypeVar

import httpx
from cachetools import TTLCache

from widget_server.items import Item
from widget_server.settings import EnvSettings, SettingError
from widget_server.sources.circuit_breaker import BreakerOpen, CircuitBreaker, Permit
from widget_server.sources.france_travail_client import (
    MAX_FIRST_INDEX, MAX_RANGE, CircuitOpen, FranceTravailClient, UpstreamAuthError,
    UpstreamBadResponse, UpstreamError, UpstreamTimeout, UpstreamUnavailable, log,
)
from widget_server.sources.france_travail_mapping import (
    NIVEAU_FORMATION, MalformedOffer, check_offers, map_offers,
)

__all__ = [
    "CircuitOpen", "FranceTravailSettings", "FranceTravailSource", "OffersPage", "UpstreamAuthError",
    "UpstreamBadResponse", "UpstreamError", "UpstreamTimeout", "UpstreamUnavailable", "merge_offers",
]

T = TypeVar("T")
_ROME = re.compile(r"^[A-Z]\d{4}$")
_INSEE = re.compile(r"^\d[\dAB]\d{3}$")
# France Travail refuses the INSEE code of a city with arrondissements: use the 1st one
# (La Bonne Alternance does the same; the distance radius still covers the city).
_ARRONDISSEMENT = {"75056": "75101", "13055": "13201", "69123": "69381"}


def _setting(env: str, default: Any, help: str, *, repr: bool = True) -> Any:
    return field(default=default, repr=repr, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class FranceTravailSettings(EnvSettings):
    client_id: str = _setting("FT_CLIENT_ID", "", "France Travail API client id (live offers are off without it).")
    client_secret: str = _setting(
        "FT_CLIENT_SECRET", "", "France Travail API client secret (never logged).", repr=False)
    api_url: str = _setting("FT_API_URL", "https://api.francetravail.io/partenaire/offresdemploi/v2",
                            "Base URL of the Offres d'emploi v2 API (/offres/search is appended).")
    token_url: str = _setting(
        "FT_TOKEN_URL",
        "https://entreprise.francetravail.fr/connexion/oauth2/access_token?realm=%2Fpartenaire",
        "Full URL of France Travail's OAuth2 token endpoint (client credentials).")
    scope: str = _setting("FT_SCOPE", "api_offresdemploiv2 o2dsoffre", "OAuth2 scope asked with the token.")
    connect_timeout: float = _setting("FT_CONNECT_TIMEOUT", 1.0, "Seconds to connect to France Travail.")
    read_timeout: float = _setting(
        "FT_READ_TIMEOUT", 3.0, "Seconds to wait for each France Travail answer (the search budget caps it).")
    mode: str = _setting(
        "FT_MODE", "merge",
        "'merge': live offers alongside the embedded ones; 'replace': live offers instead of them.")
    romes_per_call: int = _setting(
        "FT_ROMES_PER_CALL", 20, "ROME codes per France Travail call; more are split into parallel calls.")
    range_size: int = _setting(
        "FT_RANGE_SIZE", 150, "Offers asked per call (1 to 150), in aligned blocks so paging hits the cache.")
    retries_on_429: int = _setting(
        "FT_RETRIES_ON_429", 2, "Retries after HTTP 429 (waits honour Retry-After, within the search budget).")
    breaker_threshold: int = _setting(
        "FT_BREAKER_THRESHOLD", 5, "Consecutive failed searches that open the circuit breaker.")
    breaker_cooldown: float = _setting(
        "FT_BREAKER_COOLDOWN", 30.0, "Seconds the open breaker refuses calls before one trial call.")
    cache_ttl: float = _setting("FT_CACHE_TTL", 300.0, "Seconds a France Travail answer stays cached.")
    cache_size: int = _setting("FT_CACHE_SIZE", 1024, "Number of France Travail answers kept in the cache.")

    def __post_init__(self) -> None:
        if self.mode not in ("merge", "replace"):
            raise SettingError(f"Setting 'FT_MODE' has value {self.mode!r}: use 'merge' or 'replace'.")
        if not 1 <= self.range_size <= MAX_RANGE:
            raise SettingError(f"Setting 'FT_RANGE_SIZE' has value {self.range_size}: use 1 to {MAX_RANGE}.")
        for name, env in (("romes_per_call", "FT_ROMES_PER_CALL"), ("breaker_threshold", "FT_BREAKER_THRESHOLD"),
                          ("cache_size", "FT_CACHE_SIZE")):
            if getattr(self, name) < 1:
                raise SettingError(f"Setting {env!r} has value {getattr(self, name)}: must be at least 1.")
        for name, env in (("connect_timeout", "FT_CONNECT_TIMEOUT"), ("read_timeout", "FT_READ_TIMEOUT"),
                          ("cache_ttl", "FT_CACHE_TTL")):
            if getattr(self, name) <= 0:
                raise SettingError(f"Setting {env!r} has value {getattr(self, name)}: must be positive.")
        for name, env in (("api_url", "FT_API_URL"), ("token_url", "FT_TOKEN_URL")):
            if not getattr(self, name).startswith(("https://", "http://")):
                raise SettingError(f"Setting {env!r} has value {getattr(self, name)!r}: not an http(s) URL.")

    @property
    def enabled(self) -> bool:
        """Live offers are on only when both credentials are set."""
        return bool(self.client_id.strip() and self.client_secret.strip())



@dataclass
class OffersPage:
    items: list[Item]
    total: int | None             # all matching offers as France Travail counts them, when known


class _Attempt:
    """One search's claim on the breaker, taken only if the cache misses."""

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker
        self.permit: Permit | None = None

    def allow(self) -> None:
        if self.permit is None:
            try:
                self.permit = self._breaker.permit()
            except BreakerOpen as exc:
                raise CircuitOpen(f"France Travail circuit open (next trial in {exc.retry_after:.1f} s)",
                                  retry_after=exc.retry_after) from None


class FranceTravailSource:
    def __init__(self, settings: FranceTravailSettings, rome_labels: Mapping[str, str], *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._rome_labels = rome_labels
        self._client = FranceTravailClient(settings, transport=transport)
        self._breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_cooldown)
        self._cache: TTLCache[tuple[tuple[str, str], ...], tuple[list[Any], int | None]] = TTLCache(
            maxsize=settings.cache_size, ttl=settings.cache_ttl)

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    def __repr__(self) -> str:
        return f"<FranceTravailSource {self.settings.api_url!r} {self._breaker!r}>"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def search(self, romes: Sequence[str], *, latitude: float | None, longitude: float | None,
                     insee: str | None, radius_km: float, diploma: int | None, start: int, count: int,
                     budget_s: float) -> OffersPage:
        """Offers `start`..`start+count-1` for these ROME codes and place, within `budget_s` seconds.

        Raises an UpstreamError subclass, ValueError on arguments no query parser should let through.
        Pass a budget a little below any timeout of your own around this call, so that
        a slow upstream is seen here as a timeout and counted by the breaker.
        """
        if start < 0 or count < 1 or radius_km < 0 or budget_s <= 0:
            raise ValueError("start >= 0, count >= 1, radius_km >= 0 and budget_s > 0 are required")
        centre = (latitude, longitude) if latitude is not None and longitude is not None else None
        base = self._base_params(centre, insee, radius_km, diploma)
        codes = sorted({code.strip().upper() for code in romes})
        if bad := [code for code in codes if not _ROME.match(code)]:
            raise ValueError(f"not ROME codes: {bad}")
        n = self.settings.romes_per_call
        queries = [dict(base, codeROME=",".join(codes[i:i + n])) for i in range(0, len(codes), n)] or [base]

        attempt = _Attempt(self._breaker)
        began = time.monotonic()
        deadline = began + budget_s
        try:
            async with asyncio.timeout(budget_s):
                page = await self._search(queries, centre, start, count, attempt, deadline)
        except TimeoutError:
            self._verdict(attempt, failed=True)
            raise UpstreamTimeout(f"France Travail did not answer within {budget_s:.2f} s") from None
        except UpstreamError as exc:
            self._verdict(attempt, failed=exc.trips_breaker)
            # While the circuit is open every search would repeat the same line: keep it quiet.
            log.log(logging.DEBUG if isinstance(exc, CircuitOpen) else logging.WARNING,
                    "France Travail search failed: %s: %s", type(exc).__name__, exc)
            raise
        except asyncio.CancelledError:
            # Cancelled by the caller's own timeout at the end of our budget: a timeout
            # in disguise, which must count, or a hanging upstream never opens the breaker.
            self._verdict(attempt, failed=True if time.monotonic() - began >= 0.9 * budget_s else None)
            raise
        except BaseException:
            self._verdict(attempt, failed=None)
            raise
        self._verdict(attempt, failed=False)
        return page

    @staticmethod
    def _verdict(attempt: _Attempt, *, failed: bool | None) -> None:
        if attempt.permit is None:
            return                      # answered from the cache, or refused by the breaker
        if failed is None:
            attempt.permit.release()
        elif failed:
            attempt.permit.failure()
        else:
            attempt.permit.success()

    @staticmethod
    def _base_params(centre: tuple[float, float] | None, insee: str | None, radius_km: float,
                     diploma: int | None) -> dict[str, str]:
        params = {"natureContrat": "E2,FS"}   # E2 apprentissage, FS professionnalisation
        distance = str(math.ceil(radius_km))  # FT wants whole kilometres
        if insee:
            code = insee.strip().upper()
            if not _INSEE.match(code):
                raise ValueError(f"not an INSEE commune code: {insee!r}")
            params.update(commune=_ARRONDISSEMENT.get(code, code), distance=distance)
        elif centre is not None:
            # 4 decimals (about 10 m): same place, same cache key.
            params.update(latitude=f"{centre[0]:.4f}", longitude=f"{centre[1]:.4f}", distance=distance)
        # Nearest first when there is a place; newest first France-wide.
        params["sort"] = "2" if "distance" in params else "1"
        if diploma is not None:
            if diploma not in NIVEAU_FORMATION:
                raise ValueError(f"unknown diploma level: {diploma!r}")
            params["niveauFormation"] = NIVEAU_FORMATION[diploma]
        return params

    async def _search(self, queries: list[dict[str, str]], centre: tuple[float, float] | None,
                      start: int, count: int, attempt: _Attempt, deadline: float) -> OffersPage:
        labels = self._rome_labels
        if len(queries) == 1:
            offers, total = await self._window(queries[0], start, start + count, attempt, deadline)
            return OffersPage(map_offers(offers, labels, centre=centre), total)
        # Several ROME chunks: each chunk's first start+count offers, merged in one
        # order (nearest, then newest), then the requested slice.  Chunks hold
        # disjoint ROME codes and an offer has one ROME, so totals add up.
        windows = await _gather([self._window(q, 0, start + count, attempt, deadline) for q in queries])
        items = merge_offers([], [item for offers, _ in windows for item in map_offers(offers, labels, centre=centre)])
        items.sort(key=lambda item: item["dates"]["created_at"] or "", reverse=True)
        if centre is not None:
            items.sort(key=lambda item: item["place"]["distance_km"] or 0.0)
        totals = [total for _, total in windows]
        total = None if any(t is None for t in totals) else sum(t for t in totals if t is not None)
        return OffersPage(items[start:start + count], total)

    async def _window(self, query: dict[str, str], lo: int, hi: int, attempt: _Attempt,
                      deadline: float) -> tuple[list[Any], int | None]:
        """Offers lo..hi-1 of one query, from aligned blocks of `range_size` offers."""
        size = self.settings.range_size
        blocks = [b for b in range(lo // size, (hi - 1) // size + 1) if b * size <= MAX_FIRST_INDEX]
        if not blocks:
            return [], None               # beyond what France Travail lets anyone page to
        # The first block tells the total, so we never ask for blocks past the end.
        offers, total = await self._block(query, blocks[0], attempt, deadline)
        rest = [b for b in blocks[1:] if total is None or b * size < total]
        for more, _ in await _gather([self._block(query, b, attempt, deadline) for b in rest]):
            offers = offers + more
        skip = lo - blocks[0] * size
        return offers[skip:skip + hi - lo], total

    async def _block(self, query: dict[str, str], block: int, attempt: _Attempt,
                     deadline: float) -> tuple[list[Any], int | None]:
        first = block * self.settings.range_size
        last = min(first + self.settings.range_size - 1, MAX_FIRST_INDEX + MAX_RANGE - 1)
        params = dict(query, range=f"{first}-{last}")
        key = tuple(sorted(params.items()))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        attempt.allow()
        page = await self._client.search(params, deadline=deadline)
        try:
            check_offers(page.offers)
        except MalformedOffer as exc:
            raise UpstreamBadResponse(f"France Travail answer has an unexpected schema ({exc})") from None
        total = page.total
        if total is None and not page.partial:
            # 200 means "all of them"; 204 at the first block means none.
            total = first + len(page.offers) if page.offers or first == 0 else None
        result = (page.offers, total)
        self._cache[key] = result
        return result


async def _gather(awaitables: Sequence[Awaitable[T]]) -> list[T]:
    """asyncio.gather, except that the first failure cancels the siblings (TaskGroup)
    and is raised as itself rather than inside an ExceptionGroup."""
    if len(awaitables) <= 1:
        return [await a for a in awaitables]
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_as_coroutine(a)) for a in awaitables]
    except BaseExceptionGroup as group_error:
        first = group_error.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return [task.result() for task in tasks]


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def merge_offers(embedded: list[Item], live: list[Item]) -> list[Item]:
    """Live offers, then the embedded offers that are not among them; one item per id.

    The rule: two items are the same offer when they have the same id, and
    France Travail offers have the id "offer:ft-{France Travail id}" wherever
    they come from (live here; an import of FT's format must use the same key).
    The live copy wins because it is France Travail's current version of its
    own offer, while the embedded copy is as old as the dataset.  Order is
    otherwise kept (live order, then embedded order); ranking is the caller's.
    """
    seen: set[str] = set()
    merged: list[Item] = []
    for item in (*live, *embedded):
        if item["id"] not in seen:
            seen.add(item["id"])
            merged.append(item)
    return merged
