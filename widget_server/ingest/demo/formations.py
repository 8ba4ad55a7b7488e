"""National scale only: more formations, by cloning real training sites into other towns.

The real 2020 extract has ~7,500 formations; the national benchmark wants ~60k.
Cloning a whole real site (every training one centre gives at one place) keeps
what a site teaches coherent; only the place and the centre's identity are
generated.  Titles, diplomas, levels and ROME codes stay real.
"""

from __future__ import annotations

import random
import sqlite3

from widget_server.ingest.demo.common import PlacePicker, fake_siret, insert_rows
from widget_server.ingest.referentials import Referentials

MIN_POPULATION = 5_000   # training centres sit in towns, not villages
SITE_SPREAD = 0.5        # fraction of the commune's spread radius: a site is near the centre of town

COPIED = ("title", "diploma_label", "diploma_type", "level", "cfd", "rncp", "romes",
          "entry_periods", "hours", "capacity")
COLUMNS = ("key", *COPIED, "centre_name", "centre_siret", "trainer_name", "trainer_siret", "address",
           "postal_code", "city", "insee", "latitude", "longitude", "url", "source", "demo")


def real_sites(conn: sqlite3.Connection) -> list[list[tuple]]:
    """Real formations grouped by training site (trainer SIRET or name, commune), in a fixed order."""
    sites: dict[tuple, list[tuple]] = {}
    for row in conn.execute(
        f"SELECT coalesce(trainer_siret, trainer_name, centre_name, ''), coalesce(insee, ''), {', '.join(COPIED)}"
        " FROM formation WHERE demo = 0 AND romes != '' ORDER BY id"
    ):
        sites.setdefault(row[:2], []).append(row[2:])
    return [sites[k] for k in sorted(sites)]


def generate_formations(conn: sqlite3.Connection, rng: random.Random, refs: Referentials, total: int) -> int:
    """Add generated formations until the table holds `total` (nothing if it already does)."""
    existing = conn.execute("SELECT count(*) FROM formation").fetchone()[0]
    wanted = total - existing
    sites = real_sites(conn) if wanted > 0 else []
    if not sites:
        return 0
    towns = PlacePicker(refs, min_population=MIN_POPULATION)
    rows = []
    n = 0
    centre = 0
    while n < wanted:
        centre += 1
        site = rng.choice(sites)
        where = towns.pick(rng, 1)[0]
        place = towns.places[where]
        lat, lon = towns.point(rng, where, SITE_SPREAD)
        name = f"CFA Démo {centre:05d} — {place.name}"
        siret = fake_siret(rng)
        for copied in site[: wanted - n]:
            n += 1
            rows.append((f"demo-formation-{n:06d}", *copied, name, siret, name, siret, None,
                         place.postal_code, place.name, place.insee, lat, lon, None, "demo", 1))
    return insert_rows(conn, "formation", COLUMNS, rows)
