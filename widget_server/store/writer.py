"""Writing items (formations, offers, recruiters) and their R*Tree entries into a dataset being built."""

from __future__ import annotations

import sqlite3
from typing import Any, Iterable, Mapping

from widget_server.store.schema import ITEM_KINDS


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})") if row[1] != "id"]


def insert_items(conn: sqlite3.Connection, kind: str, records: Iterable[Mapping[str, Any]]) -> int:
    """Insert item records (dicts keyed by column name; missing columns are NULL).

    `romes` may be a list or a comma-separated string.  Returns the number inserted.
    R*Tree entries are added by index_items() once all items of a kind are in.
    """
    if kind not in ITEM_KINDS:
        raise ValueError(f"unknown item kind {kind!r}")
    cols = _columns(conn, kind)
    sql = f"INSERT INTO {kind}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    n = 0
    batch: list[tuple[Any, ...]] = []
    for record in records:
        values = []
        for c in cols:
            v = record.get(c)
            if c == "romes" and not isinstance(v, str):
                v = ",".join(v or ())
            elif c == "demo":
                v = 1 if v else 0
            values.append(v)
        batch.append(tuple(values))
        if len(batch) >= 5000:
            conn.executemany(sql, batch)
            n += len(batch)
            batch.clear()
    conn.executemany(sql, batch)
    return n + len(batch)


# The order a France-wide search shows each kind in.  Items are renumbered in it
# once written, so that "France-wide, best first" is "smallest ids first" and a
# search never has to fetch and sort thousands of rows to show twenty.
FRANCE_WIDE_ORDER = {
    "offer": "created_at DESC, key",       # newest offers first
    "recruiter": "hiring_score DESC, key",  # most likely to hire first
    "formation": "id",                     # catalogue order
}


def renumber_items(conn: sqlite3.Connection, kind: str) -> None:
    """Give the items of `kind` ids 1..n in their France-wide order (nothing refers to item ids)."""
    if kind not in ITEM_KINDS:
        raise ValueError(f"unknown item kind {kind!r}")
    cols = ", ".join(_columns(conn, kind))
    conn.execute("DROP TABLE IF EXISTS temp._renumber")
    conn.execute(f"CREATE TEMP TABLE _renumber AS SELECT {cols} FROM {kind} ORDER BY {FRANCE_WIDE_ORDER[kind]}")
    conn.execute(f"DELETE FROM {kind}")
    conn.execute(f"INSERT INTO {kind}({cols}) SELECT {cols} FROM temp._renumber ORDER BY rowid")
    conn.execute("DROP TABLE temp._renumber")


def index_items(conn: sqlite3.Connection, kind: str) -> int:
    """(Re)build the R*Tree of one kind: one entry per (item, ROME code) of a known ROME.

    Entries go in sorted by (family, latitude band, longitude) so that the tree's
    nodes are spatially tight within a family (see store/geo.py and
    bench/RESULTS-store.md: a 30 km probe then reads a few nodes, not the family).
    """
    from widget_server.store.geo import geo_entries   # the query and the layout live together

    if kind not in ITEM_KINDS:
        raise ValueError(f"unknown item kind {kind!r}")
    conn.execute(f"DELETE FROM {kind}_geo")
    rows = list(geo_entries(conn, kind))
    conn.executemany(f"INSERT INTO {kind}_geo VALUES (?,?,?,?,?,?,?,?,?)", rows)
    conn.execute(f"DELETE FROM {kind}_rome")
    conn.executemany(f"INSERT OR IGNORE INTO {kind}_rome VALUES (?, ?)",
                     sorted((row[8], row[7]) for row in rows))
    return len(rows)


def index_formation_aliases(conn: sqlite3.Connection) -> int:
    """(Re)build formation_alias: each training's catalogue keys and ONISEP ids -> its key."""
    conn.execute("DELETE FROM formation_alias")
    pairs = set()
    for key, keys, onisep in conn.execute(
        "SELECT key, catalogue_keys, onisep_ids FROM formation WHERE catalogue_keys IS NOT NULL OR onisep_ids IS NOT NULL"
    ):
        for alias in f"{keys or ''} {onisep or ''}".split():
            pairs.add((alias, key))
    conn.executemany("INSERT INTO formation_alias VALUES (?, ?)", sorted(pairs))
    return len(pairs)
