"""Where the demo records go and what they are: the real job market's shape.

Demo recruiters and offers are drawn so that, place by place and métier by métier,
they are as frequent as France Travail's real offers (marche/, loaded by the market
step before the demo step):

- a recruiter's commune is drawn in proportion to the real offers open there (a city's
  offers filed under the whole city are shared among its arrondissements by population);
- its main métier (ROME v3 code) in proportion to that commune's real offers per métier;
- its NAF code among the activities France Travail's 2025 arborescence lists for that
  métier (`rome_naf/ft_rome_secteurs_naf_2025-09.csv`: ROME 4.0 code -> NAF division),
  weighted by the NAF's hirings of the métier in La Bonne Boîte's mapping when it has
  any, so a bakery's main métier is a baker's and not a welder's.

Communes with no real offer get no demo record: an empty place stays empty.
"""

from __future__ import annotations

import bisect
import itertools
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from widget_server.ingest.demo.common import CITIES_WITH_ARRONDISSEMENTS
from widget_server.ingest.files import read_csv, resolve
from widget_server.ingest.referentials import Place

ROME_NAF_2025 = "rome_naf/ft_rome_secteurs_naf_2025-09.csv"
# A NAF code that the 2025 table allows for a métier but La Bonne Boîte never saw hire
# for it still gets this many "hirings", so allowed activities are never impossible.
ALLOWED_FLOOR = 1.0


@dataclass
class _Choice:
    """Values with cumulative weights, for rng.choices-like draws by bisection."""

    values: list[str]
    cum: list[float]

    def draw(self, rng: random.Random) -> str:
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


def _choice(weights: dict[str, float]) -> _Choice | None:
    items = sorted((k, w) for k, w in weights.items() if w > 0)
    if not items:
        return None
    return _Choice([k for k, _ in items], list(itertools.accumulate(w for _, w in items)))


class MarketShape:
    def __init__(self, conn: sqlite3.Connection, data_dir: Path, places: list[Place]) -> None:
        insee_of = dict(conn.execute("SELECT id, insee FROM commune"))
        by_insee: dict[str, dict[str, float]] = {}
        for rome, commune_id, offers in conn.execute("SELECT rome, commune_id, offers FROM market_offer"):
            by_insee.setdefault(insee_of[commune_id], {})[rome] = offers
        # Offers filed under Paris, Lyon or Marseille as a whole go to their arrondissements.
        arrondissements: dict[str, list[Place]] = {}
        for p in places:
            city = {"751": "75056", "693": "69123", "132": "13055"}.get(p.insee[:3])
            if city in CITIES_WITH_ARRONDISSEMENTS and p.insee != city:
                arrondissements.setdefault(city, []).append(p)
        for city, parts in arrondissements.items():
            whole = by_insee.pop(city, {})
            population = sum(p.population for p in parts) or 1
            for p in parts:
                own = by_insee.setdefault(p.insee, {})
                for rome, n in whole.items():
                    own[rome] = own.get(rome, 0) + n * p.population / population
        self.places = places
        self.romes_here = [_choice(by_insee.get(p.insee, {})) for p in places]
        self.place_weights = [sum(by_insee.get(p.insee, {}).values()) for p in places]
        self.total_offers = sum(self.place_weights)
        self.rows_2025 = 0
        self._nafs = self._naf_choices(conn, data_dir)

    def _naf_choices(self, conn: sqlite3.Connection, data_dir: Path) -> dict[str, _Choice]:
        divisions: dict[str, set[str]] = {}
        for r in read_csv(resolve(data_dir, ROME_NAF_2025)):
            self.rows_2025 += 1
            divisions.setdefault(r["code_rome"].strip().upper(), set()).add(r["naf_division"].strip().zfill(2))
        # The market counts by ROME v3 code: a v3 code allows the activities of its v4 children.
        allowed: dict[str, set[str]] = {}
        for code, parent in conn.execute("SELECT code, parent FROM rome"):
            allowed.setdefault(parent, set()).update(divisions.get(code, ()))
        hirings: dict[str, dict[str, float]] = {}
        for naf, rome, n in conn.execute("SELECT naf, rome, hirings FROM naf_rome"):
            hirings.setdefault(rome, {})[naf] = float(n)
        nafs = [code for (code,) in conn.execute("SELECT code FROM naf ORDER BY code")]
        choices: dict[str, _Choice] = {}
        for rome in sorted(set(allowed) | set(hirings)):
            seen = hirings.get(rome, {})
            if allowed.get(rome):
                weights = {n: seen.get(n, 0.0) + ALLOWED_FLOOR for n in nafs if n[:2] in allowed[rome]}
            else:
                weights = dict(seen)   # a métier the 2025 table misses: where it was seen hiring
            if (c := _choice(weights)) is not None:
                choices[rome] = c
        return choices

    def main_rome(self, rng: random.Random, place_index: int) -> str | None:
        choice = self.romes_here[place_index]
        return choice.draw(rng) if choice is not None else None

    def naf(self, rng: random.Random, rome: str) -> str | None:
        choice = self._nafs.get(rome)
        return choice.draw(rng) if choice is not None else None

    def allowed_divisions(self, rome: str) -> set[str]:
        choice = self._nafs.get(rome)
        return {n[:2] for n in choice.values} if choice else set()
