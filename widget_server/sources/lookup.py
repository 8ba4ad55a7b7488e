"""One item by the id a partner holds (deep links, LBA's /formation/:id, /jobs/job/:id...), as an envelope.

A training is known by several ids: our own ("formation:<key>" or "<key>"), the
catalogue's `cle_ministere_educatif` and its ONISEP "AF." ids; the last two go
through the indexed `formation_alias` table.  Offers are found by their key (the
France Travail id for imported offers), recruiters by their key or SIRET.  Each
lookup is one or two indexed queries, never a search.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Callable

from widget_server.items import Item
from widget_server.sources.envelopes import EnvelopeBuilder
from widget_server.store.database import Dataset

PREFIXES = {"formation": "formation:", "offer": "offer:", "recruiter": "recruiter:"}


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchall()


def _formation(conn: sqlite3.Connection, item_id: str) -> sqlite3.Row | None:
    key = item_id.removeprefix(PREFIXES["formation"])
    found = _rows(conn, "SELECT * FROM formation WHERE key = ?", (key,))
    if not found:
        found = _rows(conn, "SELECT f.* FROM formation_alias a JOIN formation f ON f.key = a.formation_key "
                            "WHERE a.alias = ? ORDER BY f.id LIMIT 1", (key,))
    return found[0] if found else None


def _offer(conn: sqlite3.Connection, item_id: str) -> sqlite3.Row | None:
    key = item_id.removeprefix(PREFIXES["offer"])
    found = _rows(conn, "SELECT * FROM offer WHERE key = ?", (key,))
    return found[0] if found else None


def _recruiter(conn: sqlite3.Connection, item_id: str) -> sqlite3.Row | None:
    key = item_id.removeprefix(PREFIXES["recruiter"])
    found = _rows(conn, "SELECT * FROM recruiter WHERE key = ?", (key,))
    if not found and key.isdigit() and len(key) == 14:
        found = _rows(conn, "SELECT * FROM recruiter WHERE siret = ? ORDER BY id LIMIT 1", (key,))
    return found[0] if found else None


_FINDERS: dict[str, Callable[[sqlite3.Connection, str], sqlite3.Row | None]] = {
    "formation": _formation, "offer": _offer, "recruiter": _recruiter}


def find_item(dataset: Dataset, kind: str, item_id: str) -> Item | None:
    """The envelope of one formation, offer or recruiter, or None when it no longer exists."""
    if not item_id or len(item_id) > 200:
        return None
    with dataset.connection() as conn:
        row = _FINDERS[kind](conn, item_id.strip())
    if row is None:
        return None
    builder: EnvelopeBuilder = dataset.extensions["envelopes"]
    return getattr(builder, kind)(row, None)


def formations_in_departments(dataset: Dataset, departments: list[str], romes: tuple[str, ...],
                              level: int | None, limit: int) -> list[Item]:
    """Formations of some ROME codes (any, if none given) whose commune is in these departments."""
    clauses, params = [], []
    if departments:
        clauses.append("(" + " OR ".join("f.insee LIKE ?" for _ in departments) + ")")
        params += [f"{d}%" for d in departments]
    if romes:
        clauses.append("f.id IN (SELECT item_id FROM formation_rome WHERE rome IN (SELECT value FROM json_each(?)))")
        params.append(json.dumps(list(romes)))
    if level is not None:
        clauses.append("f.level = ?")
        params.append(level)
    where = " AND ".join(clauses) or "1"
    with dataset.connection() as conn:
        rows = _rows(conn, f"SELECT f.* FROM formation f WHERE {where} ORDER BY f.id LIMIT ?", (*params, limit))
    builder: EnvelopeBuilder = dataset.extensions["envelopes"]
    return [builder.formation(row, None) for row in rows]


def region_departments(dataset: Dataset, region: str) -> list[str]:
    with dataset.connection() as conn:
        return [d for (d,) in conn.execute("SELECT DISTINCT dept_code FROM commune WHERE region_code = ?", (region,))]


def romes_of(dataset: Dataset, *, cfd: str | None = None, siret: str | None = None) -> list[str]:
    """ROME codes of a diploma (CFD) or of a training organisation's trainings (SIRET)."""
    with dataset.connection() as conn:
        if cfd is not None:
            found = conn.execute("SELECT romes FROM diploma WHERE cfd = ? UNION ALL "
                                 "SELECT romes FROM formation WHERE cfd = ?", (cfd, cfd)).fetchall()
        else:
            found = conn.execute("SELECT romes FROM formation WHERE trainer_siret = ? OR centre_siret = ?",
                                 (siret, siret)).fetchall()
    return list(dict.fromkeys(c for (romes,) in found for c in romes.split(",") if c))
