"""Every sentence the widget says is true, and each result can be acted on (issue 11), over HTTP.

The searches are everyday ones on the real default dataset; expectations are computed from
the API's own answer for the same search, never written down from today's data.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest

EVERYDAY = [("D1102", "69123"), ("G1602", "35238"), ("D1202", "48095"), ("M1805", "75056"),
            ("I1604", "59350"), ("D1104", "67482"), ("F1603", "13055"), ("J1501", "33063")]
RADII = (30, 60, 100)


def api(client, romes: str, insee: str, radius: int, **extra) -> dict:
    r = client.get("/api/v1/search", params={"caller": "test", "romes": romes, "insee": insee,
                                               "radius": radius, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def widget(client, romes: str, insee: str, radius: int, **extra) -> str:
    r = client.get("/widget?" + urlencode({"caller": "test", "romes": romes, "insee": insee,
                                           "radius": radius, **extra}))
    assert r.status_code == 200, r.text
    return r.text


def text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def status(page: str) -> str:
    return html.unescape(re.search(r'<p class="sum" id="w-status" role="status">(.*?)</p>', page, re.S).group(1))


def counts(page: str) -> dict[str, int]:
    raw = re.search(r'data-counts="([^"]*)"', page).group(1)
    return {k: int(v) for k, v in (pair.split("=") for pair in raw.split(",") if pair)}


@pytest.mark.parametrize("romes, insee", EVERYDAY)
def test_the_status_line_counts_what_lies_within_the_radius(client, romes, insee) -> None:
    body = api(client, romes, insee, 30)
    page = widget(client, romes, insee, 30)
    line = status(page)
    n = body["formations"]["count"]
    assert all(item["place"]["distance_km"] <= 30 for item in body["formations"]["results"])
    assert re.search(rf"\b{n}\s+formations?\b", line), line
    nearest = body["formations"]["nearest"]
    if n == 0 and nearest:
        first = nearest[0]["place"]
        assert "Aucune formation à moins de 30 km" in line
        assert f"à {first['city']}" in line and re.search(r"les plus proches sont à \d+", line), line


def test_trainings_from_farther_are_said_apart_with_their_distance(client) -> None:
    # A métier with trainings in France but none near the place (found from the API, not assumed).
    for romes, insee in (("I1607", "48095"), ("H2913", "48095"), ("A1407", "2A004"), ("D1104", "97411")):
        body = api(client, romes, insee, 10, types="formations")
        if body["formations"]["count"] == 0 and body["formations"]["nearest"]:
            break
    else:
        pytest.fail("no search with only far trainings")
    page = widget(client, romes, insee, 10, types="formations")
    first = body["formations"]["nearest"][0]["place"]
    assert "Aucune formation à moins de 10 km" in status(page)
    assert f"à {first['city']}" in status(page)
    section = page[page.index('data-type="formations"'):]
    assert 'class="list near"' in section and '(0)' in section[:400]


@pytest.mark.parametrize("romes, insee", EVERYDAY)
def test_a_wider_radius_never_shows_less(client, romes, insee) -> None:
    seen = [counts(widget(client, romes, insee, r)) for r in RADII]
    apis = [api(client, romes, insee, r) for r in RADII]
    for kind in ("formations", "offers", "recruiters"):
        row = [c[kind] for c in seen]
        assert row == sorted(row), (kind, row)
        assert row == [a[kind]["count"] for a in apis]


@pytest.mark.parametrize("romes, insee", EVERYDAY)
def test_pairs_are_within_the_radius_of_each_other_and_never_repeat(client, romes, insee) -> None:
    for radius in (30, 60):
        pairs = api(client, romes, insee, radius)["combinations"]
        assert all(p["distances"]["formation_to_employer_km"] <= radius for p in pairs)
        employers = [p["employer"]["id"] for p in pairs]
        assert len(employers) == len(set(employers))
        read = [(p["formation"]["title"], p["formation"]["company"]["name"], p["formation"]["place"]["city"],
                 p["employer"]["title"], p["employer"]["company"]["name"], p["employer"]["place"]["city"])
                for p in pairs]
        assert len(read) == len(set(read))
    page = widget(client, romes, insee, 30)
    if api(client, romes, insee, 30)["combinations"]:
        assert "Formation + employeur à moins de 30 km l'un de l'autre" in text(page)


@pytest.mark.parametrize("romes, insee", EVERYDAY)
def test_one_card_per_training_in_a_top_five(client, romes, insee) -> None:
    results = api(client, romes, insee, 30, types="formations", limit=5)["formations"]["results"]
    cards = [(r["title"].casefold(), (r["company"]["name"] or "").casefold(), r["place"]["city"]) for r in results]
    assert len(cards) == len(set(cards)), cards


def test_intake_months_are_listed_on_the_card(client) -> None:
    body = api(client, "D1102", "69123", 30, types="formations")
    with_months = [r for r in body["formations"]["results"] if r["formation"]["intake_months"]]
    assert with_months
    page = widget(client, "D1102", "69123", 30, types="formations")
    months = ("janvier février mars avril mai juin juillet août septembre octobre novembre décembre").split()
    expected = ", ".join(months[m - 1] for m in with_months[0]["formation"]["intake_months"])
    assert f"Rentrée : {expected}" in text(page)


def test_each_empty_section_offers_the_nearest_radius_that_finds_something(client) -> None:
    for romes, insee in (("D1202", "48095"), ("I1607", "48095"), ("A1407", "48095"), ("K2402", "15014")):
        body = api(client, romes, insee, 10)
        empty = [k for k in ("formations", "offers", "recruiters") if body[k]["count"] == 0
                 and body[k]["suggested_radius_km"]]
        if empty:
            break
    else:
        pytest.fail("no search with an empty section")
    page = widget(client, romes, insee, 10)
    for kind in empty:
        wider = body[kind]["suggested_radius_km"]
        assert api(client, romes, insee, wider)[kind]["count"] > 0
        below = [r for r in (30, 60, 100, 150, 200) if 10 < r < wider]
        assert all(api(client, romes, insee, r)[kind]["count"] == 0 for r in below)
        section = page[page.index(f'data-type="{kind}"'):]
        assert f'data-radius="{wider}"' in section.split("</section>")[0]
        assert f"Élargir à {wider} km" in text(section.split("</section>")[0])


def test_a_training_can_be_acted_on(client) -> None:
    page = widget(client, "D1102", "69123", 30, types="formations")
    body = api(client, "D1102", "69123", 30, types="formations")
    first = body["formations"]["results"][0]
    card = page[page.index(f'data-id="{first["id"]}"'):].split("</article>")[0]
    lat, lon = first["place"]["latitude"], first["place"]["longitude"]
    assert f"https://www.openstreetmap.org/directions?route=%3B{lat:.5f}%2C{lon:.5f}" in card
    assert "Itinéraire" in card
    if first["formation"]["onisep"]:
        assert f'href="{first["formation"]["onisep"]["url"]}"' in card and "Fiche ONISEP" in card
    if first["formation"]["contact"]["email"]:
        assert f'href="mailto:{first["formation"]["contact"]["email"]}"' in card
    for figure in first["formation"]["outcomes"]:
        assert figure["source"] in html.unescape(card) and figure["years"] in card
    assert first["company"]["name"] in html.unescape(card)


def test_a_demo_company_offers_no_mail_and_says_why(client) -> None:
    body = api(client, "D1102", "69123", 30, types="recruiters")
    demo = [r for r in body["recruiters"]["results"] if r["demo"]]
    assert demo and any(r["recruiter"]["email"] for r in demo)   # the data has an address...
    page = widget(client, "D1102", "69123", 30, types="recruiters")
    shown = [r for r in demo if f'data-id="{r["id"]}"' in page]
    assert shown
    for r in shown:
        card = page[page.index(f'data-id="{r["id"]}"'):].split("</article>")[0]
        assert "mailto:" not in card and "tel:" not in card   # ...that is never offered
        assert "on ne peut donc ni lui écrire ni lui envoyer de candidature" in html.unescape(card)


def test_the_market_sentence_says_its_source_and_date(client) -> None:
    body = api(client, "D1102", "69123", 30)
    page = text(widget(client, "D1102", "69123", 30))
    offers = body["market"]["offers"]
    assert f"En décembre 2021, {offers['count']} offres d'emploi étaient ouvertes à moins de 30 km" in page
    assert "(France Travail)" in page
    tension = body["market"]["tension"]
    if tension and tension["by_rome"]:
        assert f"bassin d'emploi {tension['area']['name']}" in page and f"(DARES, {tension['year']})" in page


def test_a_preconfigured_widget_folds_its_form_into_one_line(client) -> None:
    page = widget(client, "D1102", "69123", 30, job_name="Boulanger")
    assert re.search(r'<details class="fbox" id="w-fbox">', page)            # closed
    assert re.search(r'<span id="w-fsum-t">Boulanger · Lyon[^<]* · 30 km</span>', page)
    open_page = client.get("/widget?caller=test").text                      # nothing set: the form is open
    assert '<details class="fbox" id="w-fbox" open>' in open_page
