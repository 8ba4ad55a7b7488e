"""Geographic + ROME queries on the item R*Trees: "this ROME family within R km of this point".

Each `<kind>_geo` R*Tree has one entry per (item, ROME code): dimension 1 is the
code's family (its v3 parent as a number), dimensions 2-3 the item's point, and
the exact code and item id ride along as auxiliary columns.  A query code, v3 or
v4, matches items tagged with itself, its v3 parent or its v4 children: all of
them are in one family, so each family is one index probe, and the exact-code
filter applies to what the probe returns.

Two facts about SQLite's R*Tree shape this module (measured on the national
dataset, 1.6 M recruiter entries; see bench/RESULTS-store.md):

- Every entry has a zero-width family extent, so every node lying inside one
  family has zero volume and the insertion heuristic (least volume growth) cannot
  tell nodes apart: entries inserted in item order leave each family spatially
  unsorted, and a 30 km probe reads the whole family (3 ms even for 90 results).
  Inserting entries sorted by (family, latitude band, longitude) gives tight
  nodes: the same probe takes 0.04 ms.  `geo_entries()` yields them in that order.
- Auxiliary columns live in a separate rowid table: reading `item_id` or `rome`
  costs a B-tree lookup per entry (~1-2 us, more than everything else).
  `geo_entries()` therefore also packs the item id and the ROME code into the
  entry's id (`ENCODED_FLAG | item_id << CODE_BITS | code number`), which the
  R*Tree returns for free.  Queries decode it with a SQL CASE that falls back to
  the auxiliary columns for entries written the plain way (id 1, 2, 3...), so
  any dataset reads correctly, and a dataset indexed by geo_entries() reads fast.
"""

from __future__ import annotations

import math
import sqlite3
from operator import itemgetter
from typing import Any, Iterator, Sequence

from widget_server.geo import EARTH_RADIUS_KM
from widget_server.store.schema import ITEM_KINDS, rome_family

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
# Slack added to the bounding box, in degrees (~1 m): R*Tree coordinates are
# 32-bit floats, and the box must never cut an item the exact filter would keep.
BOX_SLACK = 1e-5

# Entry id layout written by geo_entries(): bit 62 set, then the item id, then the
# ROME code's number (rome_family() of the code itself: at most 269999 < 2**19).
CODE_BITS = 19
CODE_MASK = (1 << CODE_BITS) - 1
ENCODED_FLAG = 1 << 62
ITEM_MASK = (1 << (62 - CODE_BITS)) - 1
LAT_BAND = 2            # geo_entries() sorts by latitude bands of 1/LAT_BAND degree

_ITEM = (f"(CASE WHEN g.id >= {ENCODED_FLAG} THEN (g.id >> {CODE_BITS}) & {ITEM_MASK}"
         " ELSE g.item_id END)")
_DIAMETER = 2 * EARTH_RADIUS_KM
_HALF_RADIAN = math.pi / 360


def code_number(code: str) -> int:
    """A ROME code ("G1609") as the number packed into encoded entry ids."""
    return rome_family(code)


def geo_entries(conn: sqlite3.Connection, kind: str) -> Iterator[tuple[Any, ...]]:
    """The R*Tree rows of one kind (id, fam_min, fam_max, lat_min, lat_max, lon_min, lon_max,
    item_id, rome), one per (item, known ROME code), in the order that builds a tight tree."""
    if kind not in ITEM_KINDS:
        raise ValueError(f"unknown item kind {kind!r}")
    family = dict(conn.execute("SELECT code, family FROM rome"))
    keyed = []
    for item_id, romes, lat, lon in conn.execute(f"SELECT id, romes, latitude, longitude FROM {kind}"):
        for code in dict.fromkeys(romes.split(",")):
            fam = family.get(code)
            if fam is not None:
                keyed.append((fam, math.floor(lat * LAT_BAND), lon, lat, item_id, code))
    keyed.sort()
    for fam, _, lon, lat, item_id, code in keyed:
        entry_id = ENCODED_FLAG | item_id << CODE_BITS | code_number(code)
        yield (entry_id, fam, fam, lat, lat, lon, lon, item_id, code)


def _families(conn: sqlite3.Connection, codes: Sequence[str]) -> dict[int, tuple[set[str], bool]]:
    """family -> (allowed codes, whether they are the whole family)."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return {}
    found = conn.execute(
        f"SELECT code, parent, family FROM rome WHERE code IN ({','.join('?' * len(wanted))})", wanted
    ).fetchall()
    if not found:
        return {}
    families = sorted({family for _, _, family in found})
    members: dict[int, set[str]] = {}
    for code, family in conn.execute(
        f"SELECT code, family FROM rome WHERE family IN ({','.join('?' * len(families))})", families
    ):
        members.setdefault(family, set()).add(code)
    allowed: dict[int, set[str]] = {}
    for code, parent, family in found:
        codes_here = allowed.setdefault(family, set())
        codes_here.update((code, parent))
        if code == parent:          # a v3 code: all its v4 children, i.e. the whole family
            codes_here.update(members[family])
    return {family: (codes_here, codes_here >= members[family]) for family, codes_here in allowed.items()}


def rome_match_codes(conn: sqlite3.Connection, codes: Sequence[str]) -> dict[int, set[str]]:
    """family number -> the exact ROME codes an item may carry to match the query codes.
    A query code matches items tagged with the same code, its v3 parent, or its v4 children.
    Unknown codes are ignored."""
    return {family: allowed for family, (allowed, _) in _families(conn, codes).items()}


def bounding_box(latitude: float, longitude: float, radius_km: float) -> tuple[float, float, float, float]:
    """(lat_min, lat_max, lon_min, lon_max) holding every point within radius_km of the centre."""
    dlat = radius_km / KM_PER_DEGREE + BOX_SLACK
    lat_min, lat_max = latitude - dlat, latitude + dlat
    # A small circle's longitude span is widest towards the pole: size it there.
    widest = max(abs(lat_min), abs(lat_max))
    if widest >= 89.9:
        return lat_min, lat_max, -180.0, 180.0
    dlon = radius_km / (KM_PER_DEGREE * math.cos(math.radians(widest))) + BOX_SLACK
    if dlon >= 180:
        return lat_min, lat_max, -180.0, 180.0
    return lat_min, lat_max, longitude - dlon, longitude + dlon


def find_nearby(conn: sqlite3.Connection, kind: str, codes: Sequence[str], latitude: float | None,
                longitude: float | None, radius_km: float | None, *, where: str = "",
                params: Sequence[Any] = ()) -> list[tuple[int, float | None]]:
    """(item id, distance km) of items of `kind` tagged with a matching ROME code within radius_km of the
    point (exact haversine filter after the R*Tree bounding box), each item once, nearest first.
    With latitude/longitude None: France-wide, distance None, ordered by item id. `where`/`params`: an
    optional extra SQL condition on the item table aliased `i` (e.g. "i.level = ?").
    With a point and radius_km None: every match with its distance, nearest first."""
    if kind not in ITEM_KINDS:
        raise ValueError(f"unknown item kind {kind!r}")
    families = _families(conn, codes)
    if not families:
        return []
    located = latitude is not None and longitude is not None
    conditions = ["g.fam_min <= ?", "g.fam_max >= ?"]
    box: tuple[float, ...] = ()
    if located and radius_km is not None:
        lat_min, lat_max, lon_min, lon_max = bounding_box(latitude, longitude, radius_km)  # type: ignore[arg-type]
        conditions += ["g.lat_max >= ?", "g.lat_min <= ?", "g.lon_max >= ?", "g.lon_min <= ?"]
        box = (lat_min, lat_max, lon_min, lon_max)
    # The item table is joined only when it must be: the R*Tree alone answers the rest.
    source = f"{kind}_geo g JOIN {kind} i ON i.id = {_ITEM}" if where else f"{kind}_geo g"
    # Coordinates come back as half-angles in radians (the midpoint of the R*Tree's
    # 32-bit box, within 0.5 m of the stored point): SQL arithmetic is cheaper than Python's.
    columns = f"{_ITEM}, (g.lat_min + g.lat_max) * {_HALF_RADIAN / 2!r}, (g.lon_min + g.lon_max) * {_HALF_RADIAN / 2!r}"
    seen: set[int] = set()
    found: list[tuple[int, float | None]] = []
    for family, (allowed, whole_family) in sorted(families.items()):
        clauses, args = list(conditions), [family, family, *box]
        if not whole_family:
            codes_sorted = sorted(allowed)
            marks = ",".join("?" * len(codes_sorted))
            clauses.append(f"(CASE WHEN g.id >= {ENCODED_FLAG} THEN (g.id & {CODE_MASK}) IN ({marks})"
                           f" ELSE g.rome IN ({marks}) END)")
            args += [code_number(c) for c in codes_sorted] + codes_sorted
        if where:
            clauses.append(f"({where})")
            args += list(params)
        rows = conn.execute(f"SELECT {columns} FROM {source} WHERE {' AND '.join(clauses)}", args)
        if located:
            found.extend(_within(rows, latitude, longitude, radius_km, seen))  # type: ignore[arg-type]
        else:
            for item_id, _, _ in rows:
                if item_id not in seen:
                    seen.add(item_id)
                    found.append((item_id, None))
    if not located:
        found.sort()
    elif len(set(map(itemgetter(1), found))) == len(found):
        found.sort(key=itemgetter(1))     # no two items at the same distance: the cheap key will do
    else:
        found.sort(key=itemgetter(1, 0))  # items sharing a point (a training site...): then by id
    return found


def _within(rows: Any, latitude: float, longitude: float, radius_km: float | None,
            seen: set[int]) -> list[tuple[int, float]]:
    """(id, haversine km) of the rows (id, half-latitude rad, half-longitude rad) within radius_km.

    The haversine of widget_server.geo, rearranged to run once per candidate with
    the centre's terms hoisted out of the loop (this loop is the query's main cost).
    """
    sin, cos, asin, sqrt = math.sin, math.cos, math.asin, math.sqrt
    half_lat0 = math.radians(latitude) / 2
    half_lon0 = math.radians(longitude) / 2
    cos_lat0 = math.cos(2 * half_lat0)
    limit = math.inf if radius_km is None else radius_km
    out = []
    add, append = seen.add, out.append
    for item_id, half_lat, half_lon in rows:
        s_lat = sin(half_lat - half_lat0)
        s_lon = sin(half_lon - half_lon0)
        a = s_lat * s_lat + cos_lat0 * cos(half_lat + half_lat) * s_lon * s_lon
        d = _DIAMETER * asin(sqrt(a) if a < 1.0 else 1.0)
        if d <= limit and item_id not in seen:
            add(item_id)
            append((item_id, d))
    return out


def france_wide(conn: sqlite3.Connection, kind: str, codes: Sequence[str], needed: int, *,
                where: str = "", params: Sequence[Any] = (), order_by: str = "") -> tuple[int, list[int]]:
    """(how many items of `kind` match the ROME codes anywhere, the first `needed` ids).

    Ids are in France-wide order (store/writer.py numbers items that way), so the
    first ids are the ones to show; SQLite counts and picks them from the
    (rome, item_id) index without Python touching every match.  `order_by`: another order,
    an SQL expression on the item table aliased `i` (then ids break ties).
    """
    if kind not in ITEM_KINDS:
        raise ValueError(f"unknown item kind {kind!r}")
    allowed = sorted({c for codes_here, _ in _families(conn, codes).values() for c in codes_here})
    if not allowed:
        return 0, []
    marks = ",".join("?" * len(allowed))
    source = f"{kind}_rome r JOIN {kind} i ON i.id = r.item_id" if where or order_by else f"{kind}_rome r"
    condition = f"r.rome IN ({marks})" + (f" AND ({where})" if where else "")
    args = [*allowed, *params]
    count = conn.execute(f"SELECT count(DISTINCT r.item_id) FROM {source} WHERE {condition}", args).fetchone()[0]
    if order_by:
        ids = [row[0] for row in conn.execute(
            f"SELECT r.item_id FROM {source} WHERE {condition} GROUP BY r.item_id ORDER BY {order_by}, r.item_id"
            " LIMIT ?", [*args, needed])]
    else:
        ids = [row[0] for row in conn.execute(
            f"SELECT DISTINCT r.item_id FROM {source} WHERE {condition} ORDER BY r.item_id LIMIT ?", [*args, needed])]
    return count, ids
