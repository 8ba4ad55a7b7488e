"""Demo recruiters: companies "likely to hire an apprentice", drawn like the prediction's output.

A real predicted recruiter is a company (NAF code, place, size) with a hiring
score; it is listed under ROME code r when score/100 x share(NAF -> r) >= THRESHOLD,
share being r's part of the NAF's hirings in La Bonne Boîte's mapping.  The demo
draws the company and the score, then applies that same rule.
"""

from __future__ import annotations

import math
import random
import sqlite3
from dataclasses import dataclass, field

from widget_server.ingest.demo.common import PlacePicker, fake_siret, insert_rows
from widget_server.ingest.demo.market_shape import MarketShape
from widget_server.ingest.prediction import ROME_SHARE_THRESHOLD

# With scores drawn as below this gives a recruiter 1 to 6 ROME codes in 9 cases
# out of 10 (median 3): a NAF's hirings are concentrated on a few métiers (the
# top one holds 37 % in the median NAF), and a 0.03 cut keeps the ones that make
# at least 3 % of hirings at full score, fewer as the score drops.  The rule and
# its threshold are the prediction's own (ingest/prediction.py), shared with the
# recruiters importer so that demo and real recruiters are tagged alike.
THRESHOLD = ROME_SHARE_THRESHOLD

# Scores follow Beta(1.5, 3) (many modest hirers, few strong ones) rescaled to
# [floor, 100], the floor being the lowest score at which the NAF's main métier
# passes the threshold: a company with no ROME code would never be listed.
SCORE_ALPHA, SCORE_BETA = 1.5, 3.0

# Relative frequency of INSEE size bands among companies taking apprentices:
# mostly small ones.  Bands absent here (e.g. "00", no employee) are not drawn.
SIZE_WEIGHTS = {"01": 22, "02": 20, "03": 16, "11": 15, "12": 12, "21": 6, "22": 4,
                "31": 1.5, "32": 1.5, "41": 0.8, "42": 0.5, "51": 0.3, "52": 0.2, "53": 0.1}

EMAIL_SHARE = 0.6   # part of demo recruiters given an (undeliverable) contact address

COLUMNS = ("key", "siret", "name", "naf", "size_band", "hiring_score", "address", "postal_code",
           "city", "insee", "latitude", "longitude", "romes", "url", "email", "phone", "source", "demo")


@dataclass
class Recruiters:
    """What offers need from the generated recruiters, column-wise (row i = recruiter i + 1)."""

    places: PlacePicker
    shares: dict[str, dict[str, float]]     # NAF -> ROME -> share
    shaped: bool = False                    # romes[i][0] is the main métier the market drew
    keys: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    sirets: list[str] = field(default_factory=list)
    nafs: list[str] = field(default_factory=list)
    bands: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    place_index: list[int] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)
    romes: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.keys)


def load_mapping(conn: sqlite3.Connection) -> tuple[dict[str, list[tuple[str, float]]], dict[str, int]]:
    """NAF -> [(ROME, share)] by decreasing share, and NAF -> total hirings."""
    ranked: dict[str, list[tuple[str, float]]] = {}
    hirings: dict[str, int] = {}
    for naf, rome, n, share in conn.execute("SELECT naf, rome, hirings, share FROM naf_rome ORDER BY naf, rome"):
        ranked.setdefault(naf, []).append((rome, share))
        hirings[naf] = hirings.get(naf, 0) + n
    for codes in ranked.values():
        codes.sort(key=lambda rs: (-rs[1], rs[0]))
    return ranked, hirings


def attached_romes(score: float, ranked: list[tuple[str, float]]) -> tuple[str, ...]:
    """The prediction's rule: the ROME codes r with score/100 x share(r) >= THRESHOLD."""
    out = []
    for rome, share in ranked:
        if score / 100 * share >= THRESHOLD:
            out.append(rome)
        else:
            break   # ranked by decreasing share: nothing further passes
    return tuple(out)


_CUTS = (" (", ",", ";", " dans ", " sauf ", " à l'exception", " non ", " n.c.a", " nca")
_TRAILING = {"de", "d'", "du", "des", "et", "en", "à", "au", "aux", "la", "le", "les", "l'", "pour",
             "sur", "un", "une", "d'un", "d'une", "par", "ou", "autres", "sans", "avec"}


def short_trade(label: str) -> str:
    """A name-sized piece of a NAF label: "Restauration traditionnelle", "Travaux de peinture et vitrerie"."""
    text = label
    for cut in _CUTS:
        head = text.split(cut)[0].strip()
        if len(head) >= 8:      # keep labels whose first clause is meaningful on its own
            text = head
    words = text.split()
    while len(" ".join(words)) > 40 and len(words) > 1:
        words.pop()
    while len(words) > 1 and words[-1].lower() in _TRAILING:
        words.pop()
    return " ".join(words) or "Entreprise"


def generate_recruiters(conn: sqlite3.Connection, rng: random.Random, places: PlacePicker,
                        bands: list[str], count: int, shape: MarketShape | None = None) -> Recruiters:
    """`count` recruiters; with a market `shape`, placed and given a main métier and a NAF code
    like the real offers (market_shape.py), else placed by population with NAFs by hirings."""
    ranked, hirings = load_mapping(conn)
    naf_labels = dict(conn.execute("SELECT code, label FROM naf"))
    # NAFs whose main métier cannot pass the threshold even at score 100 would yield no code.
    nafs = [n for n in sorted(ranked) if ranked[n][0][1] >= THRESHOLD]
    floors = {n: min(100.0, math.ceil(1000 * THRESHOLD / ranked[n][0][1]) / 10) for n in nafs}
    trades = {n: short_trade(naf_labels.get(n) or "Entreprise") for n in nafs}
    band_codes = [b for b in bands if b in SIZE_WEIGHTS]
    out = Recruiters(places=places, shares={n: dict(ranked[n]) for n in ranked}, shaped=shape is not None)
    if shape is not None:
        places.reweight(shape.place_weights)

    drawn_nafs = rng.choices(nafs, weights=[hirings[n] for n in nafs], k=count)
    drawn_places = places.pick(rng, count)
    drawn_bands = rng.choices(band_codes, weights=[SIZE_WEIGHTS[b] for b in band_codes], k=count)
    rows = []
    for i in range(count):
        naf, where, band = drawn_nafs[i], drawn_places[i], drawn_bands[i]
        main = shape.main_rome(rng, where) if shape is not None else None
        if main is not None:
            naf = shape.naf(rng, main) or naf   # type: ignore[union-attr]
        floor = floors.get(naf, 0.0) if main is None else 0.0
        score = round(floor + (100.0 - floor) * rng.betavariate(SCORE_ALPHA, SCORE_BETA), 1)
        romes = attached_romes(score, ranked.get(naf, []))
        if main is not None:
            # The métier it was drawn for comes first; the mapping's rule adds the others.
            romes = (main, *(r for r in romes if r != main))
        while not romes:   # float rounding at the floor: step up to the first passing score
            score = round(score + 0.1, 1)
            romes = attached_romes(score, ranked[naf])
        lat, lon = places.point(rng, where)
        siret = fake_siret(rng)
        email = f"recrutement.{i + 1:06d}@exemple.invalid" if rng.random() < EMAIL_SHARE else None
        place = places.places[where]
        key = f"demo-recruiter-{i + 1:06d}"
        if naf not in trades:
            trades[naf] = short_trade(naf_labels.get(naf) or "Entreprise")
        name = f"{trades[naf]} Démo {i + 1:06d} — {place.name}"
        out.keys.append(key)
        out.names.append(name)
        out.sirets.append(siret)
        out.nafs.append(naf)
        out.bands.append(band)
        out.scores.append(score)
        out.place_index.append(where)
        out.points.append((lat, lon))
        out.romes.append(romes)
        # url None: no demo company has a site; phone None: a made-up number could ring someone.
        rows.append((key, siret, name, naf, band, score, None, place.postal_code, place.name, place.insee,
                     lat, lon, ",".join(romes), None, email, None, "demo", 1))
        if len(rows) >= 20_000:
            insert_rows(conn, "recruiter", COLUMNS, rows)
            rows.clear()
    insert_rows(conn, "recruiter", COLUMNS, rows)
    return out
