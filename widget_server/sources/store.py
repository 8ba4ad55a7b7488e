"""Search sources backed by the embedded dataset (formations, offers, recruiters).

Ordering per `sort`:
- distance: nearest first (France-wide: offers newest first, recruiters by hiring
  score, formations in catalogue order);
- date: offers newest first (others have no date: nearest first);
- relevance: a 0..1 score, highest first: proximity = 1 - distance / radius
  (0.5 France-wide); offers 0.5 proximity + 0.5 freshness (1 - age / 60 days);
  recruiters 0.5 proximity + 0.5 hiring score / 100; formations 0.7 proximity +
  0.3 employment (the employment rate below / 100, 0.5 when InserJeunes has none);
- employment: formations whose apprentices found work most often first: the CFA's
  employment rate 6 months after (InserJeunes), else the diploma's in the region (6,
  else 12 months); trainings without a rate come last, each group nearest first.
  Other kinds: as `distance`.

Formations within the radius are the results (`count` counts them, so widening the
radius never shows fewer).  When fewer than FALLBACK_FORMATIONS lie within it, the
nearest ones beyond it, at any distance (overseas searches included), complete the
answer apart (`nearest`), each with its distance; when the métier has no training
anywhere, the nearest training organisations of the same field are offered as
contacts instead (`contacts`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Sequence

import anyio

from widget_server.query import SearchQuery
from widget_server.sources.base import SourceResult
from widget_server.sources.envelopes import EnvelopeBuilder, fetch_rows
from widget_server.store.database import Dataset
from widget_server.store.geo import find_nearby, france_wide
from widget_server.store.organisations import nearest_organisations

CANDIDATES = 20                 # items per kind offered to the combinations (20 x 40 pairs at most)
FALLBACK_FORMATIONS = 5         # the answer always shows this many formations when any exists
CONTACTS = 5                    # organisations offered when no training of the métier exists
FRESHNESS_DAYS = 60

_KIND = {"formations": "formation", "offers": "offer", "recruiters": "recruiter"}
_ATTRIBUTE = {"offer": "created_at", "recruiter": "hiring_score", "formation": "employment_rate"}


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
        ordered = self._order(conn, matches, query)
        start = (query.page - 1) * query.limit
        page = ordered[start:start + query.limit]
        candidates = matches[:CANDIDATES]
        beyond: list[tuple[int, float | None]] = []
        if self.kind == "formation" and len(matches) < FALLBACK_FORMATIONS and query.page == 1:
            # Nobody should leave with nothing: the nearest trainings at any distance, said apart.
            inside = {i for i, _ in matches}
            everywhere = find_nearby(conn, self.kind, query.romes, lat, lon, None, where=where, params=params)
            beyond = [m for m in everywhere if m[0] not in inside][:FALLBACK_FORMATIONS - len(matches)]
        distances = dict(matches) | dict(beyond)
        rows = fetch_rows(conn, self.kind, {i for i, _ in page} | {i for i, _ in candidates} | {i for i, _ in beyond})
        builder: EnvelopeBuilder = dataset.extensions["envelopes"]
        make = getattr(builder, self.kind)
        contacts = []
        if self.kind == "formation" and not matches and not beyond and query.page == 1:
            contacts = [builder.organisation(row, d) for row, d in
                        nearest_organisations(conn, lat, lon, CONTACTS, {r[:3] for r in query.romes})]
        return SourceResult(
            items=[make(rows[i], distances[i]) for i, _ in page],
            count=len(matches),
            candidates=[make(rows[i], distances[i]) for i, _ in candidates],
            # A fallback is what stands in for an empty answer; nearest trainings that merely
            # complete a short one are listed apart without it.
            fallback=("formations_nearest_france" if beyond and not matches
                      else "formations_contacts" if contacts else None),
            nearest=[make(rows[i], distances[i]) for i, _ in beyond],
            contacts=contacts,
        )

    def suggest_radius(self, dataset: Dataset, query: SearchQuery, radii: Sequence[int]) -> int | None:
        """The smallest of `radii` beyond the query's at which this search would find something,
        with the query's own filters (a diploma level): "Élargir à N km" must keep its word."""
        assert query.centre is not None
        where, params = self._filter(query)
        with dataset.connection() as conn:
            for radius in radii:
                if radius > query.radius_km and find_nearby(conn, self.kind, query.romes, query.centre.latitude,
                                                            query.centre.longitude, radius, where=where, params=params):
                    return radius
        return None

    def _france_wide(self, conn: Any, dataset: Dataset, query: SearchQuery, where: str,
                     params: tuple[Any, ...]) -> SourceResult:
        """Without a centre: newest offers, best hiring scores, catalogue order for formations.

        Items are numbered in that order when the dataset is written
        (store/writer.py, FRANCE_WIDE_ORDER), so the first ids are the answer,
        whatever the sort (there is no distance to weigh) but `employment`, which
        SQLite orders.
        """
        start = (query.page - 1) * query.limit
        order = ("i.employment_rate IS NULL, i.employment_rate DESC"
                 if query.sort == "employment" and self.kind == "formation" else "")
        count, ids = france_wide(conn, self.kind, query.romes, max(CANDIDATES, start + query.limit),
                                 where=where, params=params, order_by=order)
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
        if query.sort == "employment" and self.kind == "formation":
            rates = self._attributes(conn, [i for i, _ in matches])
            return sorted(matches, key=lambda m: (_desc(rates.get(m[0])), m[1] or 0.0, m[0]))
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
        if self.kind == "formation":
            employment = 0.5 if value is None else float(value) / 100
            return 0.7 * proximity + 0.3 * employment
        return proximity


def _desc(value: Any) -> Any:
    """Sort key putting larger values (later dates, higher scores) first, missing ones last."""
    if value is None:
        return (1, 0)
    if isinstance(value, str):
        return (0, tuple(-ord(c) for c in value))
    return (0, -value)
