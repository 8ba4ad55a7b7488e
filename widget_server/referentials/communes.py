"""Place autocomplete and reverse geocoding over the communes of the dataset.

By name: every query word starts a word of the name (accents, case, hyphens and
apostrophes ignored; "st"/"ste" read as "saint"/"sainte"), names starting with
the query first, then by population.  By postal code: digits as a prefix.
`suggest` tolerates one typo per word when nothing matches as typed.
"""

from __future__ import annotations

import heapq
import math
import sqlite3
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from widget_server.geo import haversine_km
from widget_server.referentials.prefix_index import PrefixIndex
from widget_server.text import place_words

MAX_RESULTS = 20
REVERSE_MAX_KM = 50.0


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    postal_codes: tuple[str, ...]
    dept_code: str
    dept_name: str
    population: int
    latitude: float
    longitude: float
    kind: str
    folded: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "insee": self.insee,
            "postal_codes": list(self.postal_codes),
            "department": {"code": self.dept_code, "name": self.dept_name},
            "latitude": self.latitude,
            "longitude": self.longitude,
            "population": self.population,
            "kind": self.kind,
        }


class CommuneIndex:
    def __init__(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute(
            "SELECT insee, name, postal_codes, dept_code, dept_name, population, latitude, longitude,"
            " kind FROM commune"
        ).fetchall()
        communes = [
            Commune(r[0], r[1], tuple(r[2].split()), r[3], r[4], r[5], r[6], r[7], r[8],
                    " ".join(place_words(r[1])))
            for r in rows
        ]
        # Ids in population order: the smallest id of a group is its largest commune.
        communes.sort(key=lambda c: (-c.population, c.insee))
        self.communes = communes
        self.by_insee = {c.insee: c for c in communes}
        self.index = PrefixIndex(place_words(c.name) for c in communes)
        self.postal = sorted((code, i) for i, c in enumerate(communes) for code in c.postal_codes)
        self.postal_keys = [p[0] for p in self.postal]
        self._conn = conn

    def search(self, query: str, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
        return [self.communes[i].as_dict() for i in self._search_ids(query, limit)]

    def _search_ids(self, query: str, limit: int) -> list[int]:
        q = query.strip()
        if q.isdigit():
            return self._by_postal_prefix(q, limit)
        qwords = place_words(q)
        candidates = self.index.search(qwords)
        phrase = " ".join(qwords)
        starting = {i for i in candidates if self.communes[i].folded.startswith(phrase)}
        best = heapq.nsmallest(limit, starting)
        if len(best) < limit:
            best += heapq.nsmallest(limit - len(best), candidates - starting)
        return best

    def suggest(self, query: str, limit: int = MAX_RESULTS) -> tuple[list[dict[str, Any]], str | None]:
        """Like search, tolerating one typo per word ("Mendee" -> Mende, "Lyonn" -> Lyon).

        The correction wins when it finds a larger commune than the name as typed (ids are in
        population order): "Lyonn" starts "Cognat-Lyonne", but Lyon is what was meant, while
        "Lyo" already finds Lyon first.  Returns the results and the corrected name, or None."""
        found = self._search_ids(query, limit)
        qwords = place_words(query)
        if query.strip().isdigit() or not qwords:
            return [self.communes[i].as_dict() for i in found], None
        if found and set(qwords) <= set(self.communes[found[0]].folded.split()):
            return [self.communes[i].as_dict() for i in found], None
        fixed = [w if self.index.entries_with_word(w) else (self.index.correct(w, i == len(qwords) - 1, first_entry=True) or w)
                 for i, w in enumerate(qwords)]
        better = self._search_ids(" ".join(fixed), limit) if fixed != qwords else []
        if better and (not found or better[0] < found[0]):
            return [self.communes[i].as_dict() for i in better], " ".join(fixed)
        return [self.communes[i].as_dict() for i in found], None

    def _by_postal_prefix(self, prefix: str, limit: int) -> list[int]:
        lo = bisect_left(self.postal_keys, prefix)
        hi = bisect_left(self.postal_keys, prefix + "\x7f", lo)
        ids = {self.postal[k][1] for k in range(lo, hi)}
        return heapq.nsmallest(limit, ids)

    def get(self, insee: str) -> Commune | None:
        return self.by_insee.get(insee)

    def by_postal_code(self, postal_code: str) -> Commune | None:
        """The largest commune served by exactly this postal code."""
        lo = bisect_left(self.postal_keys, postal_code)
        ids = [self.postal[k][1] for k in range(lo, len(self.postal))
               if self.postal_keys[k] == postal_code]
        return self.communes[min(ids)] if ids else None

    def nearest(self, latitude: float, longitude: float,
                max_km: float = REVERSE_MAX_KM) -> tuple[Commune, float] | None:
        """The commune (or Paris/Lyon/Marseille arrondissement) whose centre is nearest."""
        span = 0.05
        while True:
            lon_span = span / max(math.cos(math.radians(latitude)), 0.01)
            rows = self._conn.execute(
                "SELECT c.insee, c.latitude, c.longitude FROM commune_geo g JOIN commune c ON c.id = g.id"
                " WHERE g.min_lat >= ? AND g.max_lat <= ? AND g.min_lon >= ? AND g.max_lon <= ?",
                (latitude - span, latitude + span, longitude - lon_span, longitude + lon_span),
            ).fetchall()
            if rows or span * 111 > max_km:
                break
            span *= 2
        best = min(((haversine_km(latitude, longitude, r[1], r[2]), r[0]) for r in rows), default=None)
        if best is None or best[0] > max_km:
            return None
        return self.by_insee[best[1]], best[0]
