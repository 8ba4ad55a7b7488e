"""GET /widget and its La Bonne Alternance paths: parameters, notices, states, escaping (no browser)."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

BAKER = {"caller": "test-suite", "romes": "D1102", "job_name": "Boulanger", "insee": "69123"}
# The example iframe of La Bonne Alternance's partner guide (api.gouv.fr), host changed.
LBA_URL = ("/recherche-apprentissage?radius=60&romes=F1702,F1705,F1701&scope=all&lat=47&lon=2.2"
           "&caller=ID_service_appelant_labonnealternance&return_uri=/&utm_source=partenaire")


def visitor_notices(html: str) -> list[str]:
    """What visitors see: the "Widget mal configuré" box (only for mistakes that stop the search)."""
    block = re.search(r'<div class="ntc".*?</div>', html, re.S)
    return [unescape(li) for li in re.findall(r"<li>(.*?)</li>", block.group(0))] if block else []


def notices(html: str) -> list[str]:
    """Every notice: the visitor's box and what goes to the console (data-notices, read by widget.js)."""
    found = re.search(r'data-notices="([^"]*)"', html)
    return [n["message"] for n in json.loads(unescape(found.group(1)))] if found else []


def sections(html: str) -> list[str]:
    return re.findall(r'<section class="sec" aria-labelledby="w-h-(\w+)"', html)


def test_first_results_are_in_the_html(client):
    r = client.get("/widget", params=BAKER)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert notices(r.text) == []
    assert sections(r.text) == ["formations", "offers", "recruiters"]
    assert r.text.count('class="it it-formation"') >= 1
    assert "Pour « Boulanger » à moins de 30 km de Lyon (69)" in unescape(r.text)


def test_a_la_bonne_alternance_url_works_by_changing_only_the_host(client):
    r = client.get(LBA_URL)
    assert r.status_code == 200
    assert notices(r.text) == []
    assert sections(r.text) == ["formations", "offers", "recruiters"]
    assert "à moins de 60 km de" in unescape(r.text)
    assert 'name="utm_source" value="partenaire"' in r.text       # kept for the partner's analytics


@pytest.mark.parametrize("path,shown", [
    ("/recherche-apprentissage", ["formations", "offers", "recruiters"]),
    ("/recherche", ["formations", "offers", "recruiters"]),
    ("/recherche-emploi", ["offers", "recruiters"]),
    ("/recherche-apprentissage-formation", ["formations"]),
    ("/recherche-formation", ["formations"]),
    ("/widget?scope=job", ["offers", "recruiters"]),
    ("/widget?scope=training", ["formations"]),
])
def test_the_perimeter_follows_the_path_or_scope(client, path, shown):
    path, _, scope = path.partition("?scope=")
    r = client.get(path, params={**BAKER, **({"scope": scope} if scope else {})})
    assert sections(r.text) == shown and notices(r.text) == []


def test_a_scope_contradicting_the_path_is_said(client):
    r = client.get("/recherche-emploi", params={**BAKER, "scope": "all"})
    assert sections(r.text) == ["offers", "recruiters"]
    assert any("scope=all" in n and "/recherche-emploi" in n for n in notices(r.text))


@pytest.mark.parametrize("params,param,words", [
    ({"caller": None}, "caller", "caller=mon-site.fr"),
    ({"caller": "mon site <b>"}, "caller", "lettres, des chiffres"),
    ({"romes": "D11,D1102"}, "romes", "D11 n'est pas un code ROME"),
    ({"romes": "Z9999"}, "romes", "inconnu"),
    ({"scope": "tout"}, "scope", "all, training ou job"),
    ({"theme": "rose"}, "theme", "« light », « dark » ou « auto »"),
    ({"accent": "red"}, "accent", "hexadécimale"),
    ({"accent": "#12345"}, "accent", "hexadécimale"),
    ({"radius": "500"}, "radius", "entre 1 et 200"),
    ({"radius": "ten"}, "radius", "France entière"),
    ({"diploma": "9"}, "diploma", "3 (CAP) à 7"),
    ({"insee": "99999"}, "insee", "aucune commune"),
    ({"lat": "47"}, "lon", "obligatoire"),
    ({"return_uri": "javascript:alert(1)"}, "return_uri", "javascript:"),
    ({"return_uri": "//evil.example/"}, "return_uri", "https://"),
    ({"return_uri": "/\\evil.example"}, "return_uri", "https://"),
    ({"return_logo_url": "data:image/png;base64,AAAA"}, "return_logo_url", "data:"),
    ({"return_logo_url": "http://evil.example/logo.png"}, "return_logo_url", "https://"),
    ({"parent_origin": "https://x.fr/page"}, "parent_origin", "origine"),
    ({"frozen_job": "1", "job_name": None}, "frozen_job", "job_name"),
    ({"rayon": "10"}, "rayon", "Paramètre inconnu"),
    ({"opco": "akto"}, "opco", "OPCO"),
])
def test_each_mistake_gets_a_notice_naming_it_and_the_widget_still_answers(client, params, param, words):
    query = {k: v for k, v in {**BAKER, **params}.items() if v is not None}
    r = client.get("/widget", params=query)
    assert r.status_code == 200
    found = [n for n in notices(r.text) if param in n]
    assert found and words in found[0], notices(r.text)
    if param not in ("romes",):
        assert "class=\"it " in r.text            # what can be shown still is


def test_several_mistakes_are_all_listed(client):
    r = client.get("/widget", params={"romes": "nope", "scope": "x", "accent": "y"})
    assert {n.split("»")[0].strip("« ") for n in notices(r.text)} >= {"caller", "romes", "scope", "accent"}
    assert "Choisissez un métier" in r.text


@pytest.mark.parametrize("value", ["/", "/retour?x=1", "https://www.partenaire.fr/accueil", "http://127.0.0.1:8000/"])
def test_safe_return_uris_are_accepted(client, value):
    r = client.get("/widget", params={**BAKER, "return_uri": value, "parent_origin": "https://www.partenaire.fr"})
    assert notices(r.text) == []
    href = re.search(r'id="w-back" href="([^"]*)"', r.text).group(1)
    assert unescape(href) == (f"https://www.partenaire.fr{value}" if value.startswith("/") else value)


def test_script_in_job_name_is_text(client):
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    r = client.get("/widget", params={**BAKER, "job_name": evil, "romes": "D1102"})
    assert "<script>alert" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in r.text
    only_text = client.get("/widget", params={"caller": "x", "job_name": evil})
    assert "<script>alert" not in only_text.text and "&lt;script&gt;" in only_text.text


def test_a_hostile_accent_or_origin_never_reaches_the_page(client):
    r = client.get("/widget", params={**BAKER, "accent": "#fff;}</style><script>x()</script>",
                                      "parent_origin": "https://a.fr\"><script>"})
    assert "<script>x()" not in r.text and "a.fr\"><script>" not in r.text
    assert len(notices(r.text)) == 2


def test_frozen_job_locks_the_metier(client):
    r = client.get("/widget", params={**BAKER, "frozen_job": "1"})
    assert re.search(r'id="w-job"[^>]*readonly', r.text) and 'name="frozen_job" value="1"' in r.text
    # A visitor's edit of the frozen field does not change the search.
    edited = client.get("/widget", params={**BAKER, "frozen_job": "1", "job_name": "cuisinier",
                                           "romes_label": "Boulanger"})
    assert 'name="romes" value="D1102"' in edited.text


def test_the_form_resolves_typed_text_without_javascript(client):
    r = client.get("/widget", params={"caller": "x", "job_name": "boulanger", "romes": "", "romes_label": "",
                                      "place": "lyon", "insee": "", "place_label": ""})
    assert 'name="romes" value="D1102"' in r.text and 'name="insee" value="69123"' in r.text
    unknown = client.get("/widget", params={"caller": "x", "job_name": "zzzqqq", "romes_label": ""})
    assert "Aucun métier ni diplôme ne correspond à « zzzqqq »" in unescape(unknown.text)
    assert notices(unknown.text) == []            # the visitor's typo is not the webmaster's business


def test_empty_results_and_demo_data_are_said(client):
    far = client.get("/widget", params={"caller": "x", "romes": "A1101", "lat": "42.0", "lon": "9.0",
                                        "radius": "1", "scope": "job"})
    assert 'data-state="empty"' in far.text and "Aucun résultat pour" in unescape(far.text)
    demo = client.get("/widget", params=BAKER)
    # The default dataset's offers and recruiters are demo records: each card says so, and the banner too.
    assert '<span class="tag">Démo</span>' in demo.text
    assert "Données de démonstration" in demo.text
    real_only = client.get("/widget", params={**BAKER, "scope": "training"})
    assert '<span class="tag">Démo</span>' not in real_only.text
    assert "Données de démonstration" not in real_only.text


def test_voir_plus_is_a_real_link_and_a_fragment(client):
    params = {"caller": "x", "romes": "M1805", "insee": "31555", "scope": "training"}
    page = client.get("/widget", params=params)
    more = unescape(re.search(r'<a class="more" href="([^"]+)"', page.text).group(1))
    assert more.startswith("/widget?") and "page=2" in more and "types=formations" in more
    fragment = client.get(more.replace("/widget?", "/widget/results?") + "&part=items")
    assert fragment.text.lstrip().startswith("<ol class=\"list\"") and fragment.text.count('class="it ') == 6
    assert 'class="more"' in fragment.text and "page=3" in fragment.text


def test_outgoing_links_are_real_and_safe(client):
    r = client.get("/widget", params={"caller": "x", "romes": "M1805", "insee": "31555"})
    for tag in re.findall(r"<a [^>]*>", r.text):
        assert 'href="' in tag and 'rel="noopener"' in tag, tag
        if "https://" in tag:
            assert 'target="_blank"' in tag, tag


def test_security_and_cache_headers(client):
    r = client.get("/widget", params={**BAKER, "accent": "0a7"}, headers={"Accept-Encoding": "gzip"})
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "style-src 'self' 'sha256-" in csp
    assert "x-frame-options" not in r.headers              # partners frame it
    assert r.headers["content-encoding"] == "gzip" and "max-age" in r.headers["cache-control"]
    assert "--accent:#00aa77" in r.text


def test_a_failing_source_leaves_the_others_and_says_so(dataset_path):
    from conftest import make_client
    from widget_server.app import create_app, default_sources
    from widget_server.settings import Settings

    class Broken:
        bucket = "offers"

        async def search(self, dataset, query):
            raise RuntimeError("boom")

    app = create_app(Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0),
                     default_sources() | {"offers": Broken()})
    with make_client(app) as client:
        r = client.get("/widget", params={"caller": "x", "romes": "M1805", "insee": "31555"})
    assert "Les offres d&#39;emploi sont momentanément indisponibles" in r.text
    assert r.text.count('class="it it-formation"') >= 6 and "boom" not in r.text


def test_with_a_partner_registry_the_page_frames_and_posts_only_for_the_partner(dataset_path, tmp_path):
    pytest.importorskip("widget_server.partners")
    from conftest import make_client
    from widget_server.app import create_app
    from widget_server.settings import Settings

    partners = tmp_path / "partners.toml"
    partners.write_text('[partners."mon-site.fr"]\norigins = ["https://www.mon-site.fr"]\n', encoding="utf-8")
    settings = Settings.from_env({"WIDGET_PARTNERS_FILE": str(partners), "WIDGET_PARTNER_MODE": "strict"},
                                 dataset_path=dataset_path, reload_interval=0.0)
    with make_client(create_app(settings)) as client:
        ok = client.get("/widget", params={**BAKER, "caller": "mon-site.fr", "parent_origin": "https://www.mon-site.fr"})
        assert ok.status_code == 200 and "https://www.mon-site.fr" in ok.headers["content-security-policy"]
        assert 'data-parent-origin="https://www.mon-site.fr"' in ok.text
        elsewhere = client.get("/widget", params={**BAKER, "caller": "mon-site.fr",
                                                  "parent_origin": "https://autre.example"})
        assert elsewhere.status_code == 403 and 'data-parent-origin=""' in elsewhere.text
        assert "n'est pas autorisé" in unescape(elsewhere.text) and 'class="it ' not in elsewhere.text
        stranger = client.get("/widget", params={**BAKER, "caller": "inconnu"})
        assert stranger.status_code == 403 and "frame-ancestors 'none'" in stranger.headers["content-security-policy"]


def test_a_point_given_by_coordinates_is_kept_for_the_next_page(client):
    r = client.get(LBA_URL)
    more = unescape(re.search(r'<a class="more" href="([^"]+)"', r.text).group(1))
    assert "lat=47.0" in more and "lon=2.2" in more
    page2 = client.get(more)
    assert 'name="lat" value="47.0"' in page2.text and notices(page2.text) == []


def test_odd_parameters_never_break_the_page(client):
    """A seeded shower of odd values on every parameter: always an answer, never a 5xx."""
    import random

    names = ["caller", "romes", "lat", "lon", "radius", "scope", "diploma", "job_name", "frozen_job", "return_uri",
             "return_logo_url", "zipcode", "insee", "address", "theme", "accent", "parent_origin", "wid",
             "romes_label", "place", "place_label", "types", "sort", "page", "utm_source", "part", "nope"]
    values = ["", " ", "0", "-1", "1e309", "nan", "99999999999999999999", "D1102", "d1102,,", ",", "Z9999", "all",
              "job", "<script>", "\x00", "é" * 300, "//x", "/x", "javascript:1", "#fff", "lyon", "69123", "2A004",
              "47.0", "-91", "4 (BAC...)", "dark", "%", "1" * 3000, "formations,offers", "relevance", "51"]
    rnd = random.Random(5)
    for _ in range(150):
        params = [(rnd.choice(names), rnd.choice(values)) for _ in range(rnd.randint(0, 8))]
        path = rnd.choice(["/widget", "/recherche-emploi", "/widget/results", "/configurateur"])
        r = client.get(path, params=params)
        assert r.status_code < 500, (path, params)
