"""GET /configurateur, the home page and the embed examples (no browser)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from widget_server.settings import PROJECT_ROOT

VALID = {"caller": "mon-site.fr", "job_name": "Boulanger / Boulangère", "romes": "D1102",
         "romes_label": "Boulanger / Boulangère", "place": "Lyon (69)", "insee": "69123", "place_label": "Lyon (69)"}


def code(html: str, which: str) -> str | None:
    found = re.search(rf'<code id="code-{which}">(.*?)</code>', html, re.S)
    return unescape(found.group(1)) if found else None


def test_no_snippet_until_the_configuration_is_valid(client):
    r = client.get("/configurateur")
    assert r.status_code == 200 and code(r.text, "script") is None
    text = unescape(r.text)
    assert "Pas encore de code à copier" in text and "caller" in text and "Choisissez un métier" in text


@pytest.mark.parametrize("change,reason", [
    ({"caller": ""}, "« caller » manquant"),
    ({"romes": "", "romes_label": "", "job_name": ""}, "Choisissez un métier"),
    ({"job_name": "qqqzzz", "romes_label": "Boulanger / Boulangère"}, "Aucun métier"),
])
def test_an_invalid_configuration_says_why(client, change, reason):
    r = client.get("/configurateur", params={**VALID, **change})
    assert code(r.text, "script") is None and code(r.text, "iframe") is None
    assert reason in unescape(r.text)


@pytest.mark.parametrize("change, field, bad", [({"accent": "vert"}, "c-accent", "vert"),
                                                ({"return_uri": "javascript:x"}, "c-return", "javascript")])
def test_a_warning_sits_next_to_its_field_and_keeps_the_snippet(client, change, field, bad):
    r = client.get("/configurateur", params={**VALID, **change})
    snippet = code(r.text, "script")
    assert snippet is not None and bad not in snippet          # the widget ignores the value: it is left out
    slot = re.search(rf'<p class="err" id="{field}-e"[^>]*>(.*?)</p>', r.text, re.S).group(1)
    assert f"« {next(iter(change))} »" in unescape(slot)
    assert re.search(rf'id="{field}" aria-invalid="true"', r.text)
    assert 'class="preview" data-alternance-widget' in r.text


def test_the_accent_examples_work_as_written(client):
    message = unescape(client.get("/configurateur", params={**VALID, "accent": "vert"}).text)
    examples = re.findall(r"(#[0-9a-f]{6}|%23[0-9a-f]{6}|\b0a7\b)", message.split("« accent »", 1)[1][:200])
    assert {"#00aa77", "%2300aa77", "0a7"} <= set(examples)
    for example in examples:
        for where in ("/configurateur", "/widget"):
            page = unescape(client.get(where, params={**VALID, "accent": example}).text)
            assert "« accent »" not in page, (where, example)


def test_a_blocking_mistake_sits_next_to_its_field_too(client):
    r = client.get("/configurateur", params={**VALID, "caller": ""})
    assert code(r.text, "script") is None
    slot = re.search(r'<p class="err" id="c-caller-e"[^>]*>(.*?)</p>', r.text, re.S).group(1)
    assert "caller" in unescape(slot)


def test_a_valid_configuration_gives_both_snippets_and_a_preview(client):
    r = client.get("/configurateur", params={**VALID, "accent": "#0a7", "theme": "dark", "loading": "lazy",
                                             "return_uri": "/", "scope": "job", "frozen_job": "1"})
    script = code(r.text, "script")
    assert script.startswith('<script src="http://testserver/widget.js"') and script.endswith("async></script>")
    for attr in ('data-caller="mon-site.fr"', 'data-romes="D1102"', 'data-insee="69123"', 'data-accent="#00aa77"',
                 'data-theme="dark"', 'data-scope="job"', 'data-frozen-job="1"', 'data-loading="lazy"',
                 'data-job-name="Boulanger / Boulangère"', 'data-return-uri="/"'):
        assert attr in script
    iframe = code(r.text, "iframe")
    assert 'src="http://testserver/widget?caller=mon-site.fr&amp;romes=D1102' in iframe
    assert 'title="' in iframe and 'loading="lazy"' in iframe
    assert re.search(r'class="preview" data-alternance-widget data-caller="mon-site.fr"', r.text)
    partial = client.get("/configurateur", params={**VALID, "partial": "1"})
    assert partial.text.startswith('<section id="sortie"') and "<html" not in partial.text


def test_the_snippets_escape_what_they_quote(client):
    r = client.get("/configurateur", params={**VALID, "job_name": 'Boulanger "<b>"', "romes_label": 'Boulanger "<b>"'})
    assert 'data-job-name="Boulanger &quot;&lt;b&gt;&quot;"' in code(r.text, "script")
    assert "<b>" not in r.text


def test_home_page_links_everything(client):
    r = client.get("/")
    assert r.status_code == 200 and 'lang="fr"' in r.text
    for href in ("/configurateur", "/api/docs", "/exemples/script-tag.html", "/exemples/two-widgets.html",
                 "/exemples/iframe-lba-url.html", "/exemples/events.html"):
        assert f'href="{href}"' in r.text


@pytest.mark.parametrize("name", ["script-tag.html", "two-widgets.html", "iframe-lba-url.html", "events.html"])
def test_examples_work_as_files_and_as_served(client, name):
    source = (PROJECT_ROOT / "embed_examples" / name).read_text(encoding="utf-8")
    assert "http://127.0.0.1:8000/" in source                 # works as-is next to ./dev serve
    served = client.get(f"/exemples/{name}")
    assert served.status_code == 200 and "http://testserver/" in served.text
    assert "127.0.0.1:8000" not in served.text


def test_unknown_examples_are_404(client):
    assert client.get("/exemples/nope.html").status_code == 404
    assert client.get("/exemples/..%2Fsettings.py").status_code == 404
