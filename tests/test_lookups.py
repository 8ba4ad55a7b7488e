"""The métier and place lookups, through HTTP, as an autocomplete would call them."""

from __future__ import annotations

import pytest


def labels(client, q, **params):
    response = client.get("/api/v1/metiers", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_metier_prefix_finds_the_job_first(client):
    results = labels(client, "boul")
    assert results[0]["label"] == "Boulanger / Boulangère"
    assert results[0]["kind"] == "metier"
    assert results[0]["romes"][0]["code"] == "D1102"
    assert results[0]["romes"][0]["label"]


def test_metier_every_word_is_a_prefix(client):
    results = labels(client, "aide soign")
    assert results[0]["label"] == "Aide-soignant / Aide-soignante"
    assert all("aide" in r["label"].lower() and "soign" in r["label"].lower() for r in results)


def test_metier_accents_and_case_do_not_matter(client):
    assert labels(client, "MECANICIEN AUTO")[0]["label"] == labels(client, "mécanicien auto")[0]["label"]


def test_bts_finds_diplomas_with_level(client):
    results = labels(client, "bts")
    assert results and all(r["kind"] == "diplome" for r in results)
    assert all(r["label"].upper().startswith("BTS") for r in results)
    assert all(r["level"] == 5 for r in results)
    assert all(r["romes"] for r in results)


def test_whole_words_rank_before_prefixes(client):
    # "cap" is a whole word of "CAP cuisine" but only a prefix of "Capitaine".
    results = labels(client, "cap")
    assert results[0]["label"].lower().split()[0] == "cap"


def test_principal_title_before_synonyms_and_shorter_first(client):
    results = labels(client, "coiffeur")
    assert results[0]["label"] == "Coiffeur / Coiffeuse"
    # Main titles before synonyms, whatever their length ("... dames" is a synonym).
    names = [r["label"] for r in results]
    assert names.index("Coiffeur barbier / Coiffeuse barbière") < names.index("Coiffeur / Coiffeuse dames")


def test_metier_results_capped_at_20(client):
    assert len(labels(client, "agent")) == 20
    assert len(labels(client, "agent", limit=5)) == 5


def test_metier_no_match_is_an_empty_list(client):
    assert labels(client, "zzqx") == []


def test_commune_by_name_ranked_by_population(client):
    r = client.get("/api/v1/communes", params={"q": "Lyon"}).json()["results"]
    assert r[0]["name"] == "Lyon"
    assert r[0]["insee"] == "69123"
    assert "69003" in r[0]["postal_codes"]
    assert r[0]["department"] == {"code": "69", "name": "Rhône"}
    assert r[0]["latitude"] == pytest.approx(45.76, abs=0.05)
    assert r[0]["longitude"] == pytest.approx(4.84, abs=0.05)


def test_commune_by_postal_code(client):
    r = client.get("/api/v1/communes", params={"q": "69003"}).json()["results"]
    assert r[0]["name"] == "Lyon"
    prefix = client.get("/api/v1/communes", params={"q": "690"}).json()["results"]
    assert prefix and all(any(c.startswith("690") for c in x["postal_codes"]) for x in prefix)


@pytest.mark.parametrize("q", ["st etienne", "Saint-Étienne", "saint etienne", "ST-ETIENNE"])
def test_commune_saint_abbreviations_and_hyphens(client, q):
    r = client.get("/api/v1/communes", params={"q": q}).json()["results"]
    assert r[0]["name"] == "Saint-Étienne"


def test_commune_sainte(client):
    r = client.get("/api/v1/communes", params={"q": "ste foy les lyon"}).json()["results"]
    assert r[0]["name"] == "Sainte-Foy-lès-Lyon"


def test_reverse_geocoding_answers_the_nearest_commune(client):
    r = client.get("/api/v1/communes/reverse", params={"latitude": 48.8566, "longitude": 2.3522})
    assert r.status_code == 200
    assert r.json()["result"]["name"].startswith("Paris")
    r = client.get("/api/v1/communes/reverse", params={"lat": 43.2965, "lon": 5.3698})
    assert r.json()["result"]["name"].startswith("Marseille")


def test_reverse_far_from_france_is_404_in_the_error_shape(client):
    r = client.get("/api/v1/communes/reverse", params={"latitude": 0, "longitude": 0})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "no_commune_nearby"


def test_lookups_are_cacheable(client):
    r = client.get("/api/v1/communes", params={"q": "Lyon"})
    assert "max-age" in r.headers["cache-control"]
    assert r.headers["content-type"].startswith("application/json")
