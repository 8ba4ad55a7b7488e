"""LBA's widget URLs, host changed: the right métier, place and scope, and no notice shown to visitors."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from lba_urls import LBA_URLS


def _summary(html: str) -> str:
    return unescape(re.search(r'id="w-status" role="status">(.*?)</p>', html, re.S).group(1))


@pytest.mark.parametrize("url,metier,place,shown", LBA_URLS, ids=[u[:60] for u, *_ in LBA_URLS])
def test_an_lba_url_behaves_as_on_lba(client, url, metier, place, shown):
    r = client.get(url)
    assert r.status_code == 200
    assert '<div class="ntc"' not in r.text, "a visitor-facing notice"
    assert re.findall(r'<section class="sec" aria-labelledby="w-h-(\w+)"', r.text) == shown
    summary = _summary(r.text)
    assert metier.lower() in summary.lower(), summary
    if place is None:
        assert "dans toute la France" in summary, summary
    else:
        assert place in summary, summary
    notices = json.loads(unescape(re.search(r'data-notices="([^"]*)"', r.text).group(1)))
    assert not [n for n in notices if n["visitor"]]


def test_a_strict_service_still_requires_the_caller(dataset_path):
    from conftest import make_client
    from widget_server.app import create_app
    from widget_server.settings import Settings

    partners = dataset_path.parent / "partners-lba.toml"
    partners.write_text('[partners."cfa.fr"]\norigins = ["https://cfa.fr"]\n', encoding="utf-8")
    app = create_app(Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0,
                                       partner_mode="strict", partners_file=partners))
    with make_client(app) as c:
        r = c.get("/recherche-apprentissage?romes=D1102")
        assert r.status_code == 403 and "« caller » manquant" in unescape(r.text)


def test_deep_links_open_the_item_or_say_it_is_gone(client):
    training = client.get("/api/v1/formations", params={"caller": "x", "romes": "D1102", "latitude": "45.76",
                                                        "longitude": "4.83", "radius": "30"}).json()["results"][0]
    onisep = training["onisepUrl"].rsplit("/", 1)[1]
    for item_id in (training["id"], onisep):
        for url in (f"/recherche-apprentissage?page=fiche&type=training&itemId={item_id}",
                    f"/recherche-apprentissage?type=training&itemId={item_id}"):
            r = client.get(url.replace("#", "%23"))
            assert r.status_code == 200 and 'data-found="true"' in r.text
            detail = r.text.split('id="w-detail"')[1].split("</section>")[0]
            assert unescape(training["title"]) in unescape(detail) and " open>" in detail
            assert "Boulanger" in _summary(r.text)      # the search around it: its métier, its place
    gone = client.get("/recherche-apprentissage?page=fiche&type=training&itemId=0000-gone&romes=D1102")
    assert 'data-found="false"' in gone.text and "L'élément recherché n'existe plus" in unescape(gone.text)
    assert 'class="it it-formation"' in gone.text and '<div class="ntc"' not in gone.text
    siret = client.get("/api/v1/jobs", params={"caller": "x", "romes": "D1102", "latitude": "45.76",
                                               "longitude": "4.83", "radius": "30", "insee": "69123"}
                       ).json()["lbaCompanies"]["results"][0]["company"]["siret"]
    company = client.get(f"/recherche-emploi?type=lba&itemId={siret}")
    assert 'data-found="true"' in company.text and "Entreprise à contacter" in company.text
