"""Outcomes (InserJeunes) and the local job market in API answers: each figure with its source and date."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def search(client, **params) -> dict:
    r = client.get("/api/v1/search", params={"caller": "test", **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_trainings_carry_their_outcomes_with_scope_years_and_source(client) -> None:
    body = search(client, romes="D1102", insee="69123", radius=60, types="formations", limit=20)
    results = body["formations"]["results"]
    with_outcomes = [r for r in results if r["formation"]["outcomes"]]
    assert with_outcomes
    for r in with_outcomes:
        for figure in r["formation"]["outcomes"]:
            assert figure["scope"] in ("cfa", "diploma_region")
            assert figure["source"].startswith("InserJeunes") and figure["years"]
            assert figure["scope"] != "diploma_region" or figure["region"]
        rates = [f["employment_6_months"] if f["employment_6_months"] is not None else f["employment_12_months"]
                 for f in r["formation"]["outcomes"]]
        cfa = [f for f in r["formation"]["outcomes"] if f["scope"] == "cfa"]
        expected = next((x for x in ([cfa[0]["employment_6_months"], cfa[0]["employment_12_months"]] if cfa else [])
                         if x is not None), None)
        if expected is None:
            expected = next((x for x in rates if x is not None), None)
        assert r["formation"]["employment_rate"] == expected


def test_a_missing_outcome_stays_missing(client, dataset_path: Path) -> None:
    conn = sqlite3.connect(f"file:{dataset_path}?mode=ro", uri=True)
    key, romes = conn.execute("SELECT key, romes FROM formation WHERE outcomes IS NULL AND romes != ''"
                              " AND demo = 0 LIMIT 1").fetchone()
    insee = conn.execute("SELECT insee FROM formation WHERE key = ?", (key,)).fetchone()[0]
    conn.close()
    body = search(client, romes=romes.split(",")[0], insee=insee, radius=10, types="formations", limit=50)
    item = next(r for r in body["formations"]["results"] if r["id"] == f"formation:{key}")
    assert item["formation"]["outcomes"] == [] and item["formation"]["employment_rate"] is None


def test_sort_by_employment_puts_the_best_rate_first_and_unknown_rates_last(client) -> None:
    body = search(client, romes="D1102", insee="69123", radius=100, types="formations", sort="employment",
                  limit=50)
    rates = [r["formation"]["employment_rate"] for r in body["formations"]["results"]]
    known = [x for x in rates if x is not None]
    assert known and known == sorted(known, reverse=True)
    assert rates[:len(known)] == known          # every unknown one after every known one


def test_the_market_block_says_its_sources_and_dates(client) -> None:
    market = search(client, romes="D1102", insee="69123", radius=30)["market"]
    assert market["offers"]["date"] == "2021-12-21" and "France Travail" in market["offers"]["source"]
    assert market["offers"]["radius_km"] == 30 and market["offers"]["count"] >= 0
    tension = market["tension"]
    assert tension["year"] == 2021 and "DARES" in tension["source"] and tension["area"]["name"]
    assert all(1 <= t["level"] <= 5 for t in tension["by_rome"])
    wider = search(client, romes="D1102", insee="69123", radius=60)["market"]
    assert wider["offers"]["count"] >= market["offers"]["count"]
    assert search(client, romes="D1102")["market"] is None          # no place, no local market
