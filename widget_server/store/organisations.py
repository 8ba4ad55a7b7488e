"""The training organisations nearest a point: whom to contact when no training of a métier exists."""

from __future__ import annotations

import sqlite3
from typing import Any, Iterable

from widget_server.geo import haversine_km
from widget_server.store.geo import bounding_box

# Widening rings, in km: the first ring holding enough organisations ends the search.
RINGS_KM = (20.0, 50.0, 100.0, 250.0, 600.0, 1500.0, 20000.0)


def nearest_organisations(conn: sqlite3.Connection, latitude: float, longitude: float, limit: int,
                          domains: Iterable[str] = ()) -> list[tuple[sqlite3.Row, float]]:
    """(organisation row, km) of the `limit` nearest organisations, nearest first; those giving
    trainings in one of `domains` (ROME domains such as "D11") when any such exists."""
    wanted = set(domains)
    for radius in RINGS_KM:
        found = _within(conn, latitude, longitude, radius, wanted)
        if len(found) >= limit or radius == RINGS_KM[-1]:
            if not found and wanted:
                return nearest_organisations(conn, latitude, longitude, limit)
            return found[:limit]
    return []


def _within(conn: sqlite3.Connection, latitude: float, longitude: float, radius: float,
            wanted: set[str]) -> list[tuple[sqlite3.Row, float]]:
    lat_min, lat_max, lon_min, lon_max = bounding_box(latitude, longitude, radius)
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    rows = cursor.execute(
        "SELECT o.* FROM organisation_geo g JOIN organisation o ON o.id = g.id"
        " WHERE g.lat_max >= ? AND g.lat_min <= ? AND g.lon_max >= ? AND g.lon_min <= ?",
        (lat_min, lat_max, lon_min, lon_max)).fetchall()
    found: list[tuple[Any, float]] = []
    for row in rows:
        if wanted and wanted.isdisjoint(row["domains"].split(",")):
            continue
        d = haversine_km(latitude, longitude, row["latitude"], row["longitude"])
        if d <= radius:
            found.append((row, d))
    found.sort(key=lambda f: (f[1], f[0]["id"]))
    return found
