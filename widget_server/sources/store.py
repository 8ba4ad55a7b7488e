"""Search sources backed by the embedded dataset (formations, offers, recruiters).

Ordering per `sort`:
- distance: nearest first (France-wide: offers newest first, recruiters by hiring
  score, formations in catalogue order);
- date: offers newest first (others have no date: nearest first);
- relevance: a 0..1 score, highest first: proximity = 1 - distance / radius
  (0.5 France-wide); offers 0.5 proximity + 0.5 freshness (1 - age / 60 days);
  recruiters 0.5 proximity + 0.5 hiring score / 100; formations proximity alone.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable

import anyio

from widget_server.query import SearchQuery
from widget_server.sources.base import SourceResult
from widget_server.sources.envelopes import EnvelopeBuilder, fetch_rows
from widget_server.store.database import Dataset
from widget_server.store.geo import find_nearby, france_wide

CANDIDATES = 20                 # items per kind offered to the combinations (20 x 40 pairs at most)
FALLBACK_FORMATIONS = 5         # nearest formations France-wide when the radius holds none
FRESHNESS_DAYS = 60

_KIND = {"formations": "formation", "offers": "offer", "recruiters": "recruiter"}
_ATTRIBUTE = {"offer": "created_at", "recruiter": "hiring_score"}


class StoreSource:
    def __init__(self, bucket: str, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.bucket = bucket
        self.kind = _KIND[bucket]
        self.today = today

    async def search(self, dataset: Dataset, query: SearchQuery) -> SourceResult:
        # SQLite work runs in a worker thread so that a slow query cannot stall the event loop.
        return await anyio.to_thread.run_sync(self.search_sync, dataset, query, abandon_on_cancel=True)

    def search_sync(self, dataset: Dataset, query: SearchQuery) -> SourceResult:
        with dataset.connection() as conn:
            return self._search(conn, dataset, query)

    def _search(self, conn: Any, dataset: Dataset, query: SearchQuery) -> SourceResult:
        where, params = self._filter(query)
        centre = query.centre
        if centre is None:
            return self._france_wide(conn, dataset, query, where, params)
        lat, lon = centre.latitude, centre.longitude
        matches = find_nearby(conn, self.kind, query.romes, lat, lon, query.radius_km, where=where, params=params)
        fallback = None
        if not matches and centre is not None and self.kind == "formation":
            # Nobody should leave with nothing: show the nearest trainings in France, and say so.
            matches = find_nearby(conn, self.kind, query.romes, lat, lon, 2000.0,
                                  where=where, params=params)[:FALLBACK_FORMATIONS]
            fallback = "formations_nearest_france" if matches else None
        by_distance = matches
        ordered = self._order(conn, by_distance, query)
        start = (query.page - 1) * query.limit
        page = ordered[start:start + query.limit]
        candidates = by_distance[:CANDIDATES]
        distances = dict(matches)
        rows = fetch_rows(conn, self.kind, {i for i, _ in page} | {i for i, _ in candidates})
        builder: EnvelopeBuilder = dataset.extensions["envelopes"]
        make = getattr(builder, self.kind)
        return SourceResult(
            items=[make(rows[i], distances[i]) for i, _ in page],
            count=len(matches),
            candidates=[make(rows[i], distances[i]) for i, _ in candidates],
            fallback=fallback,
        )

    def _france_wide(self, conn: Any, dataset: Dataset, query: SearchQuery, where: str,
                     params: tuple[Any, ...]) -> SourceResult:
        """Without a centre: newest offers, best hiring scores, catalogue order for formations.

        Items are numbered in that order when the dataset is written
        (store/writer.py, FRANCE_WIDE_ORDER), so the first ids are the answer,
        whatever the sort (there is no distance to weigh).
        """
        start = (query.page - 1) * query.limit
        count, ids = france_wide(conn, self.kind, query.romes, max(CANDIDATES, start + query.limit),
                                 where=where, params=params)
        page, candidates = ids[start:start + query.limit], ids[:CANDIDATES]
        rows = fetch_rows(conn, self.kind, set(page) | set(candidates))
        make = getattr(dataset.extensions["envelopes"], self.kind)
        return SourceResult(items=[make(rows[i], None) for i in page], count=count,
                            candidates=[make(rows[i], None) for i in candidates])

    def _filter(self, query: SearchQuery) -> tuple[str, tuple[Any, ...]]:
        if query.diploma is None:
            return "", ()
        if self.kind == "formation":
            return "i.level = ?", (query.diploma,)
        if self.kind == "offer":
            return "(i.level IS NULL OR i.level = ?)", (query.diploma,)
        return "", ()

    def _attributes(self, conn: Any, ids: list[int]) -> dict[int, Any]:
        column = _ATTRIBUTE.get(self.kind)
        if column is None or not ids:
            return {}
        return dict(conn.execute(
            f"SELECT id, {column} FROM {self.kind} WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),)))

    def _order(self, conn: Any, matches: list[tuple[int, float | None]], query: SearchQuery) -> list[tuple[int, float | None]]:
        if query.sort == "date" and self.kind == "offer":
            created = self._attributes(conn, [i for i, _ in matches])
            return sorted(matches, key=lambda m: (_desc(created.get(m[0])), m[1] or 0.0, m[0]))
        if query.sort == "relevance":
            values = self._attributes(conn, [i for i, _ in matches])
            score = lambda m: self._relevance(m[1], values.get(m[0]), query)  # noqa: E731
            return sorted(matches, key=lambda m: (-score(m), m[1] or 0.0, m[0]))
        return matches

    def _relevance(self, distance: float | None, value: Any, query: SearchQuery) -> float:
        proximity = 0.5 if distance is None else max(0.0, 1.0 - distance / query.radius_km)
        if self.kind == "offer" and value:
            age = (self.today() - dt.date.fromisoformat(value[:10])).days
            freshness = min(1.0, max(0.0, 1.0 - age / FRESHNESS_DAYS))
            return 0.5 * proximity + 0.5 * freshness
        if self.kind == "recruiter" and value is not None:
            return 0.5 * proximity + 0.5 * float(value) / 100
        return proximity


def _desc(value: Any) -> Any:
    """Sort key putting larger values (later dates, higher scores) first, missing ones last."""
    if value is None:
        return (1, 0)
    if isinstance(value, str):
        return (0, tuple(-ord(c) for c in value))
    return (0, -value)
