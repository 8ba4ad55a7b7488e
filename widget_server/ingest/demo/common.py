"""Demo offers, recruiters (and, at national scale, extra formations) generated from real referentials.

No national open source of apprenticeship offers or predicted recruiters exists,
so the default dataset holds generated records, flagged `demo = 1` and
`source = 'demo'`, built from real data: communes weighted by population, NAF
codes weighted by the NAF -> ROME hiring mapping, real job titles.

Determinism: every draw comes from `random.Random` seeded with a fixed string
(one stream per kind, so changing how offers are drawn does not move the
recruiters), and every input is read in a fixed order.  The only input that is
not a file is the *reference date* offers are dated from ("created within the
last 60 days" must stay true for a dataset built today): it is today's UTC date,
or `WIDGET_DEMO_DATE` (YYYY-MM-DD) when set.  So the same data files give the
same rows on the same day, and always with `WIDGET_DEMO_DATE` fixed (tests).
build_step() has a fixed signature and the build writes its `built_at` meta only
at the end, hence the environment variable rather than a parameter.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Sequence

from widget_server.ingest.files import read_csv, resolve
from widget_server.ingest.referentials import Referentials

SEED = "widget-demo-2026"
DEMO_DATE_ENV = "WIDGET_DEMO_DATE"
SIZE_BANDS = "rome_naf/effectif_labels.csv"

# How many records each scale generates.  "default" builds in ~4 s with the rest
# (budget: 30 s).  Its 30k recruiters carry ~99k (recruiter, ROME) pairs; within
# 30 km of each of the 10 largest cities they cover the ROME codes of 88-96 % of
# the mapping's hirings (33-61 % of its 517 codes: the rest belong to rare NAFs,
# and only 399 codes can be attached at all by the threshold rule).  Doubling
# them adds ~3 points, so more would only slow every build and test session.
# "national" is the design's benchmark size (500k recruiters, 100k offers, ~60k
# formations including the real ones); it builds in about a minute.
SIZES: dict[str, dict[str, int]] = {
    "default": {"recruiters": 30_000, "offers": 6_000, "formations_total": 0},
    "national": {"recruiters": 500_000, "offers": 100_000, "formations_total": 60_000},
}

# Paris, Lyon and Marseille are listed both whole and by arrondissement: place
# records in the arrondissements (finer, with their own postal code) only.
CITIES_WITH_ARRONDISSEMENTS = frozenset({"75056", "69123", "13055"})

BATCH = 10_000


def reference_date() -> dt.date:
    """The day demo dates are relative to: WIDGET_DEMO_DATE if set, else today (UTC)."""
    fixed = os.environ.get(DEMO_DATE_ENV, "").strip()
    if fixed:
        try:
            return dt.date.fromisoformat(fixed)
        except ValueError:
            raise ValueError(f"{DEMO_DATE_ENV} must be a date as YYYY-MM-DD, not {fixed!r}") from None
    return dt.datetime.now(dt.timezone.utc).date()


def rng_for(kind: str) -> random.Random:
    # A str seed is hashed with SHA-512 by random.seed(): stable across runs and
    # unaffected by PYTHONHASHSEED.
    return random.Random(f"{SEED}:{kind}")


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)   # a digit doubled, its two digits summed


def luhn_check_digit(digits: str) -> str:
    """The digit that makes `digits` + it pass the Luhn checksum (as SIRET numbers do)."""
    rev = digits[::-1]
    # Once the check digit is appended, the digits at even offsets from this end are doubled.
    total = sum(map(_DOUBLED.__getitem__, map(int, rev[0::2]))) + sum(map(int, rev[1::2]))
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def fake_siret(rng: random.Random) -> str:
    """A 14-digit number passing the Luhn checksum, like a SIRET (not a registered one)."""
    base = str(rng.randrange(10**12, 10**13))
    return base + luhn_check_digit(base)


class PlacePicker:
    """Real communes drawn with probability proportional to their population."""

    def __init__(self, refs: Referentials, min_population: int = 1) -> None:
        places = [p for p in refs.places.values()
                  if p.population >= min_population and p.insee not in CITIES_WITH_ARRONDISSEMENTS]
        self.places = places
        cum, total = [], 0
        for p in places:
            total += p.population
            cum.append(total)
        self.cum_weights = cum
        # Spread radius in degrees: 0.02 for a village, up to 0.05 for a city of a
        # million, so records spread over the built-up area rather than pile on a point.
        self.spread = [0.02 + 0.03 * min(1.0, max(0.0, (math.log10(max(p.population, 1)) - 3) / 3))
                       for p in places]

    def reweight(self, weights: Sequence[float]) -> None:
        """Draw places in proportion to `weights` (one per place, in self.places order) instead."""
        total, cum = 0.0, []
        for w in weights:
            total += w
            cum.append(total)
        if total > 0:
            self.cum_weights = cum

    def pick(self, rng: random.Random, k: int) -> list[int]:
        """Indexes into self.places."""
        return rng.choices(range(len(self.places)), cum_weights=self.cum_weights, k=k)

    def point(self, rng: random.Random, index: int, scale: float = 1.0) -> tuple[float, float]:
        """A point uniformly spread in a disc around the commune's centre."""
        p = self.places[index]
        radius = self.spread[index] * scale * math.sqrt(rng.random())
        angle = rng.random() * 2 * math.pi
        lat = p.latitude + radius * math.sin(angle)
        lon = p.longitude + radius * math.cos(angle) / max(math.cos(math.radians(p.latitude)), 0.2)
        return round(lat, 5), round(lon, 5)


def size_bands(data_dir: Path) -> list[str]:
    return [r["code"] for r in read_csv(resolve(data_dir, SIZE_BANDS))]


def insert_rows(conn: sqlite3.Connection, table: str, columns: Sequence[str],
                rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert tuples in `columns` order, in batches (no per-row dict handling)."""
    sql = f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    n = 0
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            conn.executemany(sql, batch)
            n += len(batch)
            batch.clear()
    conn.executemany(sql, batch)
    return n + len(batch)
