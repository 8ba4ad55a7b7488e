"""Geographic + ROME queries on the item R*Trees: "this ROME family within R km of this point"."""

from __future__ import annotations

import math
import sqlite3
from typing import Any, Sequence

from widget_server.geo import haversine_km

KM_PER_DEGREE = 111.195


def rome_match_codes(conn: sqlite3.Connection, codes: Sequence[str]) -> dict[int, set[str]]:
    """family number -> the exact ROME codes an item may carry to match the query codes.

    A query code matches items tagged with the same code, its v3 parent, or its v4 children."""
    out: dict[int, set[str]] = {}
    for code in codes:
        row = conn.execute("SELECT parent, family FROM rome WHERE code = ?", (code,)).fetchone()
        if row is None:
            continue
        parent, family = row
        allowed = out.setdefault(family, set())
        allowed.update((code, parent))
        allowed.update(r[0] for r in conn.execute("SELECT code FROM rome WHERE parent = ?", (code,)))
    return out


def find_nearby(conn: sqlite3.Connection, kind: str, codes: Sequence[str], latitude: float | None,
                longitude: float | None, radius_km: float | None, *, where: str = "",
                params: Sequence[Any] = ()) -> list[tuple[int, float | None]]:
    """(item id, distance km) of matching items within radius_km, nearest first (France-wide: by id)."""
    families = rome_match_codes(conn, codes)
    if not families:
        return []
    geo = f"{kind}_geo"
    box = ""
    box_params: tuple[float, ...] = ()
    if latitude is not None and longitude is not None and radius_km is not None:
        dlat = radius_km / KM_PER_DEGREE
        dlon = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))
        box = " AND g.lat_min <= ? AND g.lat_max >= ? AND g.lon_min <= ? AND g.lon_max >= ?"
        box_params = (latitude + dlat, latitude - dlat, longitude + dlon, longitude - dlon)
    found: dict[int, float | None] = {}
    for family, allowed in sorted(families.items()):
        if where:
            sql = (f"SELECT g.item_id, g.rome, i.latitude, i.longitude FROM {geo} g JOIN {kind} i ON i.id = g.item_id"
                   f" WHERE g.fam_min <= ? AND g.fam_max >= ?{box} AND ({where})")
            args: tuple[Any, ...] = (family, family, *box_params, *params)
        else:
            sql = (f"SELECT g.item_id, g.rome, g.lat_min, g.lon_min FROM {geo} g"
                   f" WHERE g.fam_min <= ? AND g.fam_max >= ?{box}")
            args = (family, family, *box_params)
        for item_id, rome, lat, lon in conn.execute(sql, args):
            if rome not in allowed or item_id in found:
                continue
            if box:
                assert latitude is not None and longitude is not None and radius_km is not None
                d = haversine_km(latitude, longitude, lat, lon)
                if d > radius_km:
                    continue
                found[item_id] = d
            else:
                found[item_id] = None
    if box:
        return sorted(found.items(), key=lambda kv: (kv[1], kv[0]))
    return sorted(found.items())
