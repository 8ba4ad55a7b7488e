"""The best formation + employer pairs: one place to study, one to work, both reachable.

For a formation F and an employer E (a job offer, or a predicted recruiter)
sharing a ROME family, with d_F and d_E the learner's distances to them and
d_FE the distance between the two places (km):

    travel    T = 0.4 d_F + 0.4 d_E + 0.2 d_FE     (T = d_FE when the search is France-wide)
    proximity P = 1 / (1 + T / 10)                  (1 on the spot, 0.5 at T = 10 km)
    strength  S = 1 for a real offer, 0.5 x hiring score / 100 for a predicted recruiter
    score       = 0.6 P + 0.4 S

Only pairs whose two places lie within the search radius of each other (30 km
for a France-wide search) are proposed: none at all rather than a far-fetched
one.  Pairs with an offer come before pairs with a predicted recruiter (an
open position beats a prediction); within each group the higher score first.
Each employer is used once, a formation at most 3 times, two pairs that would
read the same (same training, centre and town; same employer title, company
and town) are one, and 10 pairs are given at most.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from widget_server.geo import EARTH_RADIUS_KM, haversine_km
from widget_server.items import Item

MAX_PAIRS = 10
MAX_PER_FORMATION = 3
MAX_PER_EMPLOYER = 1
FRANCE_WIDE_MAX_APART_KM = 30.0


def families(item: Item, parents: Mapping[str, str]) -> set[str]:
    return {parents.get(r["code"], r["code"]) for r in item["romes"]}


def _flat_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: within 0.1 % of the great circle below 300 km, and
    several times cheaper; the pairing computes it for every candidate pair."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return EARTH_RADIUS_KM * math.sqrt(x * x + y * y)


def _strength(employer: Item) -> float:
    if employer["type"] == "offer":
        return 1.0
    return 0.5 * employer["recruiter"]["hiring_score"] / 100.0


def _score(d_f: float | None, d_e: float | None, d_fe: float, strength: float) -> float:
    travel = d_fe if d_f is None or d_e is None else 0.4 * d_f + 0.4 * d_e + 0.2 * d_fe
    return 0.6 / (1.0 + travel / 10.0) + 0.4 * strength


def _learner_km(item: Item, learner: tuple[float, float] | None) -> float | None:
    if learner is None:
        return None
    return haversine_km(learner[0], learner[1], item["place"]["latitude"], item["place"]["longitude"])


def pair_score(formation: Item, employer: Item, learner: tuple[float, float] | None) -> tuple[float, dict[str, Any]]:
    """The pair's score and the three distances it was computed from."""
    d_f, d_e = _learner_km(formation, learner), _learner_km(employer, learner)
    d_fe = haversine_km(formation["place"]["latitude"], formation["place"]["longitude"],
                        employer["place"]["latitude"], employer["place"]["longitude"])
    return _score(d_f, d_e, d_fe, _strength(employer)), _distances(d_f, d_e, d_fe)


def _distances(d_f: float | None, d_e: float | None, d_fe: float) -> dict[str, Any]:
    return {
        "learner_to_formation_km": None if d_f is None else round(d_f, 1),
        "learner_to_employer_km": None if d_e is None else round(d_e, 1),
        "formation_to_employer_km": round(d_fe, 1),
    }


def _reads_as(item: Item) -> tuple[str, ...]:
    """What a learner reads of an item: two items reading the same make the same pair twice."""
    company = (item.get("company") or {}).get("name") or ""
    return (item["type"], " ".join(str(item.get("title", "")).casefold().split()), company.casefold(),
            str(item["place"].get("city") or "").casefold())


def best_pairs(formations: Sequence[Item], employers: Sequence[Item], learner: tuple[float, float] | None,
               parents: Mapping[str, str], max_apart_km: float | None = None) -> list[dict[str, Any]]:
    """The top pairs, ready for the response; `max_apart_km`: the search radius."""
    limit = max_apart_km if max_apart_km is not None else FRANCE_WIDE_MAX_APART_KM
    # Everything that depends on one side only is computed once per item, not per pair.
    fs = [(f, families(f, parents), _learner_km(f, learner), f["place"]["latitude"], f["place"]["longitude"])
          for f in formations]
    scored = []
    for employer in employers:
        e_fams = families(employer, parents)
        d_e = _learner_km(employer, learner)
        strength = _strength(employer)
        tier = 0 if employer["type"] == "offer" else 1
        e_lat, e_lon = employer["place"]["latitude"], employer["place"]["longitude"]
        for formation, f_fams, d_f, f_lat, f_lon in fs:
            if f_fams.isdisjoint(e_fams):
                continue
            d_fe = _flat_km(f_lat, f_lon, e_lat, e_lon)
            if d_fe > limit:
                continue
            scored.append((tier, -_score(d_f, d_e, d_fe, strength), formation["id"], employer["id"],
                           formation, employer, d_f, d_e, d_fe))
    scored.sort(key=lambda s: s[:4])
    per_formation: dict[str, int] = {}
    per_employer: dict[str, int] = {}
    pairs = []
    seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for _, neg_score, fid, eid, formation, employer, d_f, d_e, d_fe in scored:
        if per_formation.get(fid, 0) >= MAX_PER_FORMATION or per_employer.get(eid, 0) >= MAX_PER_EMPLOYER:
            continue
        reads = (_reads_as(formation), _reads_as(employer))
        if reads in seen:
            continue
        seen.add(reads)
        per_formation[fid] = per_formation.get(fid, 0) + 1
        per_employer[eid] = per_employer.get(eid, 0) + 1
        pairs.append({"score": round(-neg_score, 3), "formation": formation, "employer": employer,
                      "distances": _distances(d_f, d_e, d_fe)})
        if len(pairs) == MAX_PAIRS:
            break
    return pairs
