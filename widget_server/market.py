"""The local job market of a search: job offers for its métiers within its radius, and how hard
employers find it to recruit there (hiring tension), each with its source and date.

Both figures come from France Travail / DARES aggregates loaded by ingest/market.py,
keyed by ROME v3 codes: a search's codes count through their v3 parent.  They describe
the whole job market of the métier (every contract, not only apprenticeships) at their
date, and are said that way.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any, Mapping, Sequence

from widget_server.store.geo import bounding_box

OFFERS_DATE = "2021-12-21"
OFFERS_SOURCE = ("France Travail, offres d'emploi ouvertes par commune et par métier au 21 décembre 2021 "
                 "(extraction publiée par le projet Mobiville, probablement réelle)")
TENSION_YEAR = 2021
TENSION_SOURCE = "DARES et Pôle emploi, indicateur de tension sur le marché du travail par bassin d'emploi, 2021"
TENSION_LABELS = {1: "très faible", 2: "faible", 3: "moyenne", 4: "forte", 5: "très forte"}
# Arrondissements are not in the employment-area file: their city is.
_CITY_OF_ARRONDISSEMENT = {"751": "75056", "693": "69123", "132": "13055"}
_SMALL = frozenset("de du des la le les et en sur sous".split())


def _area_name(name: str) -> str:
    words = name.lower().split()
    return " ".join(w if (i and w in _SMALL) else w[:1].upper() + w[1:] for i, w in enumerate(words))


def _offers(conn: sqlite3.Connection, romes: Sequence[str], latitude: float, longitude: float,
            radius_km: float) -> int:
    lat_min, lat_max, lon_min, lon_max = bounding_box(latitude, longitude, radius_km)
    marks = ",".join("?" * len(romes))
    # CROSS JOIN keeps the R*Tree box first (then one primary-key seek per commune and code): left
    # to itself SQLite scans every commune of the codes nationwide and probes the tree (20 x slower).
    rows = conn.execute(
        f"SELECT g.min_lat, g.min_lon, m.offers FROM commune_geo g CROSS JOIN market_offer m"
        f" ON m.commune_id = g.id AND m.rome IN ({marks})"
        " WHERE g.max_lat >= ? AND g.min_lat <= ? AND g.max_lon >= ? AND g.min_lon <= ?",
        (*romes, lat_min, lat_max, lon_min, lon_max))
    lat0, cos0 = math.radians(latitude), math.cos(math.radians(latitude))
    total = 0
    for lat, lon, offers in rows:
        s_lat = math.sin((math.radians(lat) - lat0) / 2)
        s_lon = math.sin(math.radians(lon - longitude) / 2)
        a = s_lat * s_lat + cos0 * math.cos(math.radians(lat)) * s_lon * s_lon
        if 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a))) <= radius_km:
            total += offers
    return total


def _tension(conn: sqlite3.Connection, romes: Sequence[str], insee: str,
             labels: Mapping[str, str]) -> dict[str, Any] | None:
    area = conn.execute("SELECT area FROM commune_area WHERE insee = ?", (insee,)).fetchone()
    if area is None and insee[:3] in _CITY_OF_ARRONDISSEMENT:
        area = conn.execute("SELECT area FROM commune_area WHERE insee = ?",
                            (_CITY_OF_ARRONDISSEMENT[insee[:3]],)).fetchone()
    if area is None:
        return None
    name = conn.execute("SELECT name FROM employment_area WHERE code = ?", area).fetchone()
    marks = ",".join("?" * len(romes))
    by_rome = [
        {"rome": {"code": rome, "label": labels.get(rome, rome)}, "level": level, "label": TENSION_LABELS[level],
         "offers": None if offers is None else round(offers, 1),
         "job_seekers": None if seekers is None else round(seekers, 1)}
        for rome, level, offers, seekers in conn.execute(
            f"SELECT rome, level, offers, job_seekers FROM market_tension WHERE area = ? AND rome IN ({marks})"
            " ORDER BY rome", (area[0], *romes))
    ]
    if not by_rome:
        return None
    return {"area": {"code": area[0], "name": _area_name(name[0]) if name else area[0]}, "year": TENSION_YEAR,
            "source": TENSION_SOURCE, "by_rome": by_rome}


def local_market(conn: sqlite3.Connection, romes: Sequence[str], latitude: float, longitude: float,
                 radius_km: float, insee: str | None, parents: Mapping[str, str],
                 labels: Mapping[str, str]) -> dict[str, Any]:
    """The `market` block of a search with a place."""
    v3 = sorted({parents.get(code, code) for code in romes})
    has_data = conn.execute("SELECT 1 FROM market_offer LIMIT 1").fetchone() is not None
    return {
        "romes": [{"code": code, "label": labels.get(code, code)} for code in v3],
        "offers": {"count": _offers(conn, v3, latitude, longitude, radius_km), "radius_km": radius_km,
                   "date": OFFERS_DATE, "source": OFFERS_SOURCE} if has_data else None,
        "tension": _tension(conn, v3, insee, labels) if insee else None,
    }
