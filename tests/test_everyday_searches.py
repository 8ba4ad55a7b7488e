"""Everyday searches, as a new user makes them: a métier in words and a town, 30 km (issue 15).

Each case goes the user's way: the métier lookup's first suggestion, then the search around
the town. A case passes when a training of the expected métier (its ROME code or a code of
the same family) lies within 30 km.  The towns spread over France, overseas included.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

CASES = [  # (what a person types, INSEE of the town, the ROME code(s) a relevant training carries)
    ("cuisinier", "35238", "G1602"), ("coiffure", "48095", "D1202"), ("développeur web", "75056", "M1805"),
    ("boulanger", "69123", "D1102"), ("mécanicien auto", "59350", "I1604"), ("pâtissier", "67482", "D1104"),
    ("plombier", "13055", "F1603"), ("électricien", "31555", "F1602"), ("aide-soignant", "33063", "J1501"),
    ("vendeur", "44109", "D1214"), ("comptable", "06088", "M1203"), ("maçon", "21231", "F1703"),
    ("menuisier", "63113", "H2206"), ("fleuriste", "34172", "D1209"), ("boucher", "29019", "D1101"),
    ("serveur", "74010", "G1803"), ("esthéticienne", "76540", "D1208"), ("carrossier", "37261", "I1606"),
    ("assistant de gestion", "80021", "M1604"), ("petite enfance", "87085", "K1303"),
    ("logistique", "45234", "N1103"), ("paysagiste", "25056", "A1203"), ("réceptionniste", "2A004", "G1703"),
    ("infirmier", "97411", "J1506"), ("mécanicien", "97209", "I1604"), ("commercial", "51454", ("D1401", "D1402", "D1403")),
    ("informatique", "38185", "M1805"), ("peintre en bâtiment", "57463", "F1606"), ("soudeur", "76351", "H2913"),
    ("charcutier", "42218", "D1103"),
]


def run_case(client, words: str, insee: str) -> tuple[list[str], dict]:
    lookup = client.get("/api/v1/metiers", params={"q": words})
    assert lookup.status_code == 200, lookup.text
    suggestions = lookup.json()["results"]
    if not suggestions:
        return [], {}
    romes = [r["code"] for r in suggestions[0]["romes"]]
    body = client.get("/api/v1/search", params={"caller": "everyday", "romes": ",".join(romes), "insee": insee,
                                                 "radius": 30, "types": "formations", "limit": 5}).json()
    return romes, body


def test_at_least_26_of_30_everyday_searches_find_a_relevant_training_within_30_km(client, dataset_path: Path) -> None:
    conn = sqlite3.connect(f"file:{dataset_path}?mode=ro", uri=True)
    parent = dict(conn.execute("SELECT code, parent FROM rome"))   # the ROME family, as the search matches
    conn.close()
    found, missed = 0, []
    for words, insee, expected in CASES:
        romes, body = run_case(client, words, insee)
        results = body.get("formations", {}).get("results", [])
        families = {parent[code] for code in ((expected,) if isinstance(expected, str) else expected)}
        relevant = [r for r in results if r["place"]["distance_km"] <= 30
                    and any(parent.get(c["code"], c["code"]) in families for c in r["romes"])]
        if relevant:
            found += 1
        else:
            missed.append((words, insee, romes, [r["title"] for r in results[:3]]))
    assert found >= 26, missed


@pytest.mark.parametrize("words, insee, expected", CASES[:10])
def test_no_training_appears_twice_in_a_top_five(client, words, insee, expected) -> None:
    _, body = run_case(client, words, insee)
    results = body.get("formations", {}).get("results", [])
    seen = [(r["title"].casefold(), (r["company"]["name"] or "").casefold(), r["place"]["city"]) for r in results]
    assert len(seen) == len(set(seen)), seen
