"""The best formation + employer pairs: one place to study, one to work, both reachable.

For a formation F and an employer E (a job offer, or a predicted recruiter)
sharing a ROME family, with d_F and d_E the learner's distances to them and
d_FE the distance between the two places (km):

    travel    T = 0.4 d_F + 0.4 d_E + 0.2 d_FE     (T = d_FE when the search is France-wide)
    proximity P = 1 / (1 + T / 10)                  (1 on the spot, 0.5 at T = 10 km)
    strength  S = 1 for a real offer, 0.5 x hiring score / 100 for a predicted recruiter
    score       = 0.6 P + 0.4 S

Pairs with an offer come before pairs with a predicted recruiter (an open
position beats a prediction); within each group the higher score first. At
most 3 pairs per formation and 3 per employer, 10 in all.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from widget_server.geo import haversine_km
from widget_server.items import Item

MAX_PAIRS = 10
MAX_PER_FORMATION = 3
MAX_PER_EMPLOYER = 3


def families(item: Item, parents: Mapping[str, str]) -> set[str]:
    return {parents.get(r["code"], r["code"]) for r in item["romes"]}


def _distance(a: Item, b: Item) -> float:
    return haversine_km(a["place"]["latitude"], a["place"]["longitude"],
                        b["place"]["latitude"], b["place"]["longitude"])


def pair_score(formation: Item, employer: Item, learner: tuple[float, float] | None) -> tuple[float, dict[str, Any]]:
    """The pair's score and the three distances it was computed from."""
    d_fe = _distance(formation, employer)
    if learner is None:
        d_f = d_e = None
        travel = d_fe
    else:
        lat, lon = learner
        d_f = haversine_km(lat, lon, formation["place"]["latitude"], formation["place"]["longitude"])
        d_e = haversine_km(lat, lon, employer["place"]["latitude"], employer["place"]["longitude"])
        travel = 0.4 * d_f + 0.4 * d_e + 0.2 * d_fe
    proximity = 1.0 / (1.0 + travel / 10.0)
    if employer["type"] == "offer":
        strength = 1.0
    else:
        strength = 0.5 * employer["recruiter"]["hiring_score"] / 100.0
    score = 0.6 * proximity + 0.4 * strength
    distances = {
        "learner_to_formation_km": None if d_f is None else round(d_f, 1),
        "learner_to_employer_km": None if d_e is None else round(d_e, 1),
        "formation_to_employer_km": round(d_fe, 1),
    }
    return score, distances


def best_pairs(formations: Sequence[Item], employers: Sequence[Item], learner: tuple[float, float] | None,
               parents: Mapping[str, str]) -> list[dict[str, Any]]:
    """The top pairs, ready for the response."""
    formation_families = [(f, families(f, parents)) for f in formations]
    scored = []
    for employer in employers:
        employer_families = families(employer, parents)
        for formation, fams in formation_families:
            if not fams & employer_families:
                continue
            score, distances = pair_score(formation, employer, learner)
            tier = 0 if employer["type"] == "offer" else 1
            scored.append((tier, -score, formation["id"], employer["id"], formation, employer, distances))
    scored.sort(key=lambda s: s[:4])
    per_formation: dict[str, int] = {}
    per_employer: dict[str, int] = {}
    pairs = []
    for tier, neg_score, fid, eid, formation, employer, distances in scored:
        if per_formation.get(fid, 0) >= MAX_PER_FORMATION or per_employer.get(eid, 0) >= MAX_PER_EMPLOYER:
            continue
        per_formation[fid] = per_formation.get(fid, 0) + 1
        per_employer[eid] = per_employer.get(eid, 0) + 1
        pairs.append({"score": round(-neg_score, 3), "formation": formation, "employer": employer,
                      "distances": distances})
        if len(pairs) == MAX_PAIRS:
            break
    return pairs
