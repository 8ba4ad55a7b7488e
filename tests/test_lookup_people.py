"""The lookups understand people: everyday words, diploma acronyms, La Bonne Alternance's
groupings, one typo; and the first suggestion finds something."""

from __future__ import annotations

import pytest

# Everyday queries (chosen before looking at the results, hard ones included) and the ROME
# code a person typing them means.  29 of 30 must have it in the top 3.
EVERYDAY = [
    ("boulanger", "D1102"), ("cuisinier", "G1602"), ("coiffure", "D1202"), ("développeur web", "M1805"),
    ("mécanicien auto", "I1604"), ("aide-soignant", "J1501"), ("BTS MCO", "D1501"), ("CAP AEPE", "K1303"),
    ("plombierr", "F1603"), ("comptabilité", "M1203"), ("vente", "D1214"), ("électricien", "F1602"),
    ("infirmier", "J1506"), ("maçon", "F1703"), ("BUT GEA", "M1203"), ("DEAES", "K1302"),
    ("NDRC", "D1406"), ("pâtissier", "D1104"), ("esthéticienne", "D1208"), ("chauffeur poids lourd", "N4101"),
    ("jardinier", "A1203"), ("serveur", "G1803"), ("cariste", "N1101"), ("auxiliaire puéricultrice", "J1304"),
    ("agent immobilier", "C1504"), ("ressources humaines", "M1501"), ("boucher", "D1101"),
    ("menuisier", "H2206"), ("coifeur", "D1202"), ("aide à domicile", "K1304"),
]


def top(client, q, n=3):
    r = client.get("/api/v1/metiers", params={"q": q, "limit": 8})
    assert r.status_code == 200, r.text
    return r.json()["results"][:n]


def matches(result, code, parents):
    # A v3 code (what the catalogue and France Travail tag) matches its v4 fiches, as the search does.
    return any(r["code"] == code or parents.get(r["code"]) == code for r in result["romes"])


@pytest.fixture(scope="module")
def parents(dataset_path):
    import sqlite3
    conn = sqlite3.connect(dataset_path)
    try:
        return dict(conn.execute("SELECT code, parent FROM rome"))
    finally:
        conn.close()


def test_everyday_queries_find_the_right_metier_in_the_top_3(client, parents):
    missed = [(q, code, [r["label"] for r in top(client, q)]) for q, code in EVERYDAY
              if not any(matches(r, code, parents) for r in top(client, q))]
    assert len(EVERYDAY) == 30
    assert len(missed) <= 1, missed


@pytest.mark.parametrize("q, title", [
    ("BTS MCO", "BTS management commercial opérationnel"),
    ("bts ndrc", "BTS négociation et digitalisation de la relation client"),
    ("CAP AEPE", "CAP accompagnant éducatif petite enfance"),
    ("DEAES", "accompagnant éducatif et social"),
    ("BUT GEA", "gestion des entreprises et des administrations"),
])
def test_diploma_acronyms_come_from_the_titles(client, q, title):
    first = top(client, q, 1)[0]
    assert first["kind"] == "diplome" and first["source"] == "catalogue"
    assert title.lower() in first["label"].lower()
    assert first["trainings"] > 0 and first["romes"]


def test_lba_groupings_carry_several_rome_codes(client):
    group = next(r for r in top(client, "coiffure", 8) if r["source"] == "lba")
    assert group["label"] == "Coiffure" and group["kind"] == "metier"
    assert len(group["romes"]) >= 2 and "D1202" in [r["code"] for r in group["romes"]]


def test_items_say_what_they_are_and_the_counts_they_are_ranked_by(client):
    for r in top(client, "cuisine", 8):
        assert r["kind"] in ("metier", "diplome") and r["source"] in ("rome", "lba", "catalogue")
        assert isinstance(r["trainings"], int) and isinstance(r["offers"], int)
        assert all(c["code"] and c["label"] for c in r["romes"])


@pytest.mark.parametrize("q", ["infirmier", "vente", "électricien", "cuisinier", "informatique", "agent"])
def test_the_first_suggestion_finds_something(client, q):
    first = top(client, q, 1)[0]
    # Several "Infirmier / Infirmière …" fiches have no training at all: they must not come first.
    assert first["trainings"] > 0 and first["offers"] > 0, first


def test_one_typo_is_tolerated_and_said(client):
    body = client.get("/api/v1/metiers", params={"q": "plombierr"}).json()
    assert body["match"] == "typo" and body["did_you_mean"] == "plombier"
    assert body["results"][0]["romes"][0]["code"] == "F1603"
    exact = client.get("/api/v1/metiers", params={"q": "plombier"}).json()
    assert exact["match"] == "prefix" and exact["did_you_mean"] is None


def test_short_words_are_not_corrected(client):
    assert client.get("/api/v1/metiers", params={"q": "zzq"}).json()["results"] == []


@pytest.mark.parametrize("q, name", [("Mendee", "Mende"), ("Lyonn", "Lyon"), ("Marseile", "Marseille"),
                                     ("Toulouze", "Toulouse")])
def test_commune_typo_is_corrected_and_said(client, q, name):
    body = client.get("/api/v1/communes", params={"q": q}).json()
    assert body["results"][0]["name"] == name
    assert body["match"] == "typo" and body["did_you_mean"]


@pytest.mark.parametrize("q", ["Lyo", "Mend", "Villeurb", "Lyon", "69003"])
def test_commune_typed_right_is_not_corrected(client, q):
    body = client.get("/api/v1/communes", params={"q": q}).json()
    assert body["match"] == "prefix" and body["did_you_mean"] is None and body["results"]
