"""XSS in real Chromium: every widget parameter, the configurator's, the loader's data-* and imported data.

Each payload of tests/xss_corpus.py calls `window.__xss(N)` (or `alert(N)`) if it ever runs. Pages are
checked four ways:

- nothing ran: no `__xss` call and no dialog, in any frame (Watched, browser_tools.py);
- nothing was injected: a scan of the DOM finds no event-handler attribute, no javascript:/data:/vbscript:
  URL, no script, style, iframe, svg, math, object, base or meta that the page does not have by design
  (an injection is a bug even where the CSP would stop it);
- nothing left 127.0.0.1 (except a partner's https logo, which return_logo_url is for);
- what the page shows of a payload, it shows literally (the métier, the notices' echoes, the hidden
  fields, the imported titles, names and addresses).

Most pages are opened with the CSP bypassed, so that the escaping is tested on its own (without the
CSP an injected script would run); the loader's pages and the imported data are also opened with the
CSP on, where a CSP violation counts as an injection. To stay fast, one page holds one iframe per
payload, and one widget URL sets many parameters at once (groups that do not mask each other).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlencode

import httpx
import pytest
from datasets import LYON, VILLEURBANNE, build, formation, offer, recruiter
from xss_corpus import PAYLOADS, Payload

from widget_server.app import create_app
from widget_server.links import safe_link
from widget_server.query import ROME_RE
from widget_server.settings import Settings
from widget_server.web.widget_params import FALSE_WORDS, WIDGET_CALLER_RE
from widget_server.web.widget_urls import safe_url

from .browser_tools import Watched, frame_grid, until, wait_event, widget_frame, edit_search
from .conftest import ThreadedServer, host_app

pytestmark = pytest.mark.browser

CALLER = "xss.test"
BASE = {"caller": CALLER, "romes": "D1102", "insee": "69123"}
# Groups of parameters set to the same payload in one widget URL. Within a group no parameter hides
# another: with a valid caller and ROME code every one of "page" is read and shown (a bad lat/lon leaves
# the search France-wide, which hides no other); "place" breaks what the search needs (the métier then
# comes from job_name) and must not have lat/lon, which outrank insee and zipcode. Only formations are
# asked for: smaller pages, and the results are not what these parameters change.
GROUPS = [
    ("page", ["job_name", "radius", "scope", "diploma", "theme", "accent", "return_uri", "return_logo_url",
              "utm_source", "parent_origin", "frozen_job", "lat", "lon"], {**BASE, "types": "formations"}),
    ("place", ["caller", "romes", "insee", "zipcode"], {"job_name": "Boulanger", "types": "formations"}),
]
ALL_PARAMS = [p for _, names, _ in GROUPS for p in names]
MAX_URL = 7000          # longer URLs are split in several (uvicorn refuses request heads over 16 KB)
LOADER_SUBSET = [p for p in PAYLOADS if p.n % 5 == 1 or safe_url(p.text)]

# Every element, attribute and URL of a page against what it has by design. `opts`: which origins'
# scripts are ours, how many <style> (the widget's theme), whether iframes of ours are expected.
SCAN = r"""(opts) => {
  const bad = [];
  const own = location.origin;
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'data', 'srcdoc', 'background', 'poster', 'ping',
                    'codebase', 'cite', 'manifest'];
  const never = ['frame', 'frameset', 'object', 'embed', 'applet', 'base', 'svg', 'math', 'template', 'portal',
                 'noscript', 'textarea', 'xmp', 'plaintext', 'marquee'];
  const short = el => el.outerHTML.slice(0, 160);
  for (const el of document.querySelectorAll('*')) {
    const tag = el.localName;
    if (never.includes(tag) || el.namespaceURI !== 'http://www.w3.org/1999/xhtml') bad.push('element ' + short(el));
    if (tag === 'script' && !(opts.scripts.some(p => el.src.startsWith(own + p)) && !el.textContent.trim()))
      bad.push('script ' + short(el));
    if (tag === 'style' && !/^:root\{--accent:#[0-9a-f]{6};--on-accent:#[0-9a-f]{6};[^<>"'\\]*$/.test(el.textContent))
      bad.push('style ' + short(el));
    if (tag === 'link' && !((el.rel === 'icon' && el.getAttribute('href') === 'data:,') ||
                            (el.rel === 'stylesheet' && el.href.startsWith(own + '/static/'))))
      bad.push('link ' + short(el));
    if (tag === 'meta' && !(el.hasAttribute('charset') || el.name === 'viewport')) bad.push('meta ' + short(el));
    if (tag === 'img' && !el.closest('#w-back')) bad.push('img ' + short(el));
    if (tag === 'iframe' && !(opts.iframes && el.closest('.preview') && el.src.startsWith(own + '/widget?')))
      bad.push('iframe ' + short(el));
    if (tag === 'form' && !['w-form', 'cfg'].includes(el.id)) bad.push('form ' + short(el));
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) bad.push('handler ' + a.name + ' on ' + tag);
      // (the loader sizes its iframe with a style set from script, which the CSP allows)
      if (['style', 'srcdoc', 'formaction', 'autofocus', 'http-equiv'].includes(a.name) &&
          !(a.name === 'style' && tag === 'iframe' && opts.iframes)) bad.push('attribute ' + a.name + ' on ' + tag);
      if (urlAttrs.includes(a.name) || a.name.includes(':')) {
        const v = a.value.replace(/[\u0000-\u0020\u007f-\u00a0]/g, '').toLowerCase();
        if (/^(javascript|vbscript|data|livescript):/.test(v) && !(tag === 'link' && a.value === 'data:,'))
          bad.push('url ' + tag + ' ' + a.name + '=' + a.value.slice(0, 100));
      }
    }
  }
  const styles = document.querySelectorAll('style').length;
  if (styles !== opts.styles) bad.push('styles: ' + styles);
  const q = s => document.querySelector(s);
  const root = q('#w');
  return {
    bad,
    notices: [...document.querySelectorAll('.ntc li, .bad li')].map(li => li.textContent),
    noticesJson: root ? JSON.parse(root.dataset.notices || '[]') : [],
    status: q('#w-status') ? q('#w-status').textContent : null,
    title: q('title') ? q('title').textContent : null,
    text: document.body ? document.body.textContent : '',
    job: q('#w-job') ? q('#w-job').value : null,
    jobReadOnly: q('#w-job') ? q('#w-job').readOnly : null,
    diploma: q('#w-diploma') ? q('#w-diploma').value : null,
    back: q('#w-back') ? q('#w-back').getAttribute('href') : null,
    logo: q('#w-back img') ? q('#w-back img').getAttribute('src') : null,
    utm: q('#w-form input[name=utm_source]') ? q('#w-form input[name=utm_source]').value : null,
    callerField: !!q('#w-form input[name=caller]'),
    parentOrigin: root ? root.dataset.parentOrigin : null,
    notes: [...document.querySelectorAll('#w-results .note')].map(p => p.textContent),
  };
}"""
WIDGET = {"scripts": ["/static/"], "styles": 1, "iframes": False}
CONFIGURATOR = {"scripts": ["/static/", "/widget.js"], "styles": 0, "iframes": True}


@pytest.fixture(scope="module")
def xss_origin(dataset_path: Path) -> Iterator[str]:
    """The app on the session dataset, rate limits off (hundreds of pages in a few seconds)."""
    settings = Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0, rate_per_ip=0.0,
                                 rate_per_caller=0.0)
    with ThreadedServer(create_app(settings)) as server:
        yield server.origin


@pytest.fixture(scope="module")
def xss_host(xss_origin: str) -> Iterator[str]:
    """Partner pages (conftest's host_app) on another origin, embedding the app above."""
    with ThreadedServer(host_app(xss_origin)) as server:
        yield server.origin


@pytest.fixture
def watched(browser: Any) -> Iterator[Any]:
    """watched(bypass_csp=...) -> Watched; at the end: nothing ran, no dialog, nothing left 127.0.0.1."""
    opened: list[tuple[Watched, set[str]]] = []

    def factory(bypass_csp: bool = False, allowed_off_host: set[str] | None = None, **size: int) -> Watched:
        w = Watched(browser, bypass_csp=bypass_csp, **size)
        opened.append((w, allowed_off_host if allowed_off_host is not None else set()))
        return w

    yield factory
    for w, allowed in opened:
        w.settle()
        w.close()
    for w, allowed in opened:
        assert w.hits == [], f"payloads ran: {w.hits[:10]}"
        assert w.dialogs == [], f"dialogs opened: {w.dialogs[:10]}"
        assert w.violations == [], f"CSP violations (an injection the CSP stopped): {w.violations[:10]}"
        leaks = [(u, t) for u, t in w.off_host() if not (t == "image" and unquote(u) in allowed)]
        assert leaks == [], f"requests left 127.0.0.1: {leaks[:10]}"


def _logo_requests(payloads: list[Payload]) -> set[str]:
    """The https logos return_logo_url may load (the partner's own, by design), as Chromium asks for them."""
    return {p.text for p in payloads if safe_url(p.text) and p.text.startswith("https://")}


def _scan(frame: Any, opts: dict[str, Any] = WIDGET) -> dict[str, Any]:
    report = frame.evaluate(SCAN, opts)
    assert report["bad"] == [], f"{frame.url[:200]}: {report['bad'][:5]}"
    # The notices shown to visitors (only those that stop the search) are, word for word, the ones the
    # widget's script reads (data-notices) and flags as such; the others go to the console.
    if report["noticesJson"]:
        assert [n["message"] for n in report["noticesJson"] if n["visitor"]] == report["notices"]
        report["notices"] = [n["message"] for n in report["noticesJson"]]
    return report


def _widget_urls(origin: str, payload: Payload, group: str) -> list[tuple[list[str], str]]:
    """(parameters set to the payload, URL) for one group; too long a URL is split in several."""
    names, base = next((names, base) for g, names, base in GROUPS if g == group)
    # In "page", the payload is also a parameter's *name* (unknown parameters are named in a notice).
    todo = names + (["<name>"] if group == "page" else [])
    out: list[tuple[list[str], str]] = []
    while todo:
        taken: list[str] = []
        while todo:
            pairs = [(payload.text, "1") if n == "<name>" else (n, payload.text) for n in taken + todo[:1]]
            url = f"{origin}/widget?" + urlencode([*base.items(), *pairs])
            if taken and len(url) > MAX_URL:
                break
            taken.append(todo.pop(0))
        pairs = [(payload.text, "1") if n == "<name>" else (n, payload.text) for n in taken]
        out.append((taken, f"{origin}/widget?" + urlencode([*base.items(), *pairs])))
    return out


def _has(notices: list[str], *parts: str) -> bool:
    return any(all(p in text for p in parts) for text in notices)


def _check_literal(report: dict[str, Any], names: list[str], p: Payload, host_origin: str) -> None:
    """What each parameter shows of the payload, it shows as text, unchanged."""
    text, notices, echo = p.text, report["notices"], p.text[:10]
    short = len(text) <= 150
    for name in names:
        where = f"{name}={text[:60]!r}"
        if name == "job_name":
            if short:
                assert report["job"] == text, where
                assert report["title"].endswith(" : " + text), where
                assert f"« {text} »" in report["status"], where
            else:
                assert _has(notices, "job_name", "150"), where
        elif name in ("radius", "scope", "theme", "accent", "insee", "zipcode"):
            assert _has(notices, echo), where
        elif name == "diploma":
            if re.fullmatch(r"([3-7])(\s*\(.*\))?", text):
                assert report["diploma"] == text[0], where
            else:
                assert _has(notices, "diploma", echo), where
        elif name in ("lat", "lon"):
            assert _has(notices, f"« {name} »", echo), where
        elif name == "return_uri":
            if safe_url(text):
                assert report["back"] == (host_origin + text if text.startswith("/") else text), where
            else:
                assert _has(notices, "return_uri"), where
        elif name == "return_logo_url":
            if safe_url(text):
                assert report["logo"] == text, where
            else:
                assert _has(notices, "return_logo_url"), where
        elif name == "utm_source":
            assert report["utm"] == text[:200], where
        elif name == "parent_origin":
            # Refused; the widget posts to the page that framed it (its Referer), never to the payload.
            assert _has(notices, "parent_origin") and report["parentOrigin"] in ("", host_origin), where
        elif name == "frozen_job":
            assert report["jobReadOnly"] is (short and text.lower() not in FALSE_WORDS), where
        elif name == "caller":
            # LBA's callers are free text ("contact@site.fr mon-id"): readable text is kept, as a value.
            if WIDGET_CALLER_RE.fullmatch(text):
                assert report["callerField"], where
            else:
                assert _has(notices, "caller") and not report["callerField"], where
        elif name == "romes":
            codes = list(dict.fromkeys(c.strip().upper() for c in text.split(",") if c.strip()))
            shown = ", ".join([c for c in codes if not ROME_RE.fullmatch(c)][:3])[:60]
            assert _has(notices, "romes", shown), where
        elif name == "<name>":
            assert _has(notices, f"« {text[:40]} »"), where


# --- every widget parameter, every payload ------------------------------------------------------

@pytest.mark.parametrize("group", [g for g, _, _ in GROUPS])
def test_every_widget_parameter_shows_payloads_as_text(watched, xss_origin, xss_host, group):
    w = watched(bypass_csp=True, allowed_off_host=_logo_requests(PAYLOADS))
    cases = [(p, names, url) for p in PAYLOADS for names, url in _widget_urls(xss_origin, p, group)]
    for start in range(0, len(cases), 35):
        batch = cases[start:start + 35]
        frames = frame_grid(w.page, f"{xss_host}/grille", [url for _, _, url in batch])
        w.settle()
        for (p, names, url), frame in zip(batch, frames):
            assert frame.url == url
            _check_literal(_scan(frame), names, p, xss_host)
    assert w.hits == [] and w.dialogs == []


def test_all_seventeen_parameters_are_covered():
    assert sorted(ALL_PARAMS) == sorted(["caller", "romes", "lat", "lon", "radius", "scope", "diploma", "job_name",
                                         "frozen_job", "return_uri", "return_logo_url", "zipcode", "insee",
                                         "theme", "accent", "utm_source", "parent_origin"])
    assert len(PAYLOADS) >= 30


# --- the loader: data-* attributes on a partner's page of another origin ------------------------

def test_loader_data_attributes_reach_the_widget_as_text(watched, xss_origin, xss_host):
    w = watched()          # with the CSP: what partners' visitors get
    for p in LOADER_SUBSET:
        attrs = {**BASE, "job_name": p.text, "accent": p.text, "scope": p.text, "utm_source": p.text,
                 "return_uri": p.text, "title": p.text, "height": p.text}
        w.page.goto(f"{xss_host}/container?{urlencode(attrs)}")
        frame = widget_frame(w.page)
        ready = wait_event(w.page, "ready")[0]["detail"]
        iframe = w.page.locator("#box iframe")
        assert w.page.locator("#box > *").count() == 1 and iframe.get_attribute("title") == p.text
        assert iframe.get_attribute("src").startswith(xss_origin + "/widget?")
        report = _scan(frame)
        _check_literal(report, ["job_name", "accent", "scope", "utm_source", "return_uri"], p, xss_host)
        assert report["parentOrigin"] == xss_host
        if len(p.text) <= 150:
            assert ready["query"]["job_name"] == p.text
        # The notices reach the page as events, word for word.
        assert [n["message"] for n in ready["notices"]] == report["notices"]
        if safe_url(p.text):      # an accepted return_uri comes back to the page as data, not as a link to follow
            frame.locator("#w-back").click()
            navigate = wait_event(w.page, "navigate")[0]["detail"]
            assert navigate["uri"] == p.text
            assert w.page.url.startswith(xss_host + "/container")
    w.settle()


# --- the configurator's query parameters ---------------------------------------------------------

CONFIG_PARAMS = ["caller", "job_name", "romes", "romes_label", "frozen_job", "place", "insee", "place_label",
                 "radius", "scope", "diploma", "theme", "accent", "return_uri", "return_logo_url", "loading"]


def test_configurator_parameters_show_payloads_as_text(watched, xss_origin):
    w = watched(bypass_csp=True, width=1200, allowed_off_host=_logo_requests(PAYLOADS))
    # Every parameter set to the payload: refused, said in the reasons, no snippet. (The configurator may
    # only be framed by its own origin: the grid is a page of ours.)
    urls = []
    for p in PAYLOADS:
        url = f"{xss_origin}/configurateur?" + urlencode([(n, p.text) for n in CONFIG_PARAMS])
        if len(url) > MAX_URL:
            url = f"{xss_origin}/configurateur?" + urlencode([(n, p.text) for n in ("job_name", "accent", "scope")])
        urls.append(url)
    for start in range(0, len(urls), 35):
        frames = frame_grid(w.page, f"{xss_origin}/healthz", urls[start:start + 35])
        w.settle()
        for p, frame in zip(PAYLOADS[start:start + 35], frames):
            report = _scan(frame, CONFIGURATOR)
            assert _has(report["notices"], p.text[:10]), p.text[:60]      # accent, scope... echo it
            assert frame.locator("#code-script").count() == 0             # no snippet for an invalid setting
    # A valid configuration with the payload as the métier's label (and return link): snippets and preview.
    chosen = sorted([p for p in LOADER_SUBSET if len(p.text) <= 150], key=lambda p: not safe_url(p.text))[:8]
    urls = []
    for p in chosen:
        settings = {"caller": CALLER, "romes": "D1102", "job_name": p.text}
        if safe_url(p.text):
            settings["return_uri"] = p.text
        urls.append(f"{xss_origin}/configurateur?{urlencode(settings)}")
    frames = frame_grid(w.page, f"{xss_origin}/healthz", urls)
    for p, frame in zip(chosen, frames):
        assert f'data-job-name="{html.escape(p.text)}"' in frame.locator("#code-script").text_content()
        assert "<iframe src=" in frame.locator("#code-iframe").text_content()
        _scan(frame, CONFIGURATOR)
        preview = widget_frame(frame)
        _check_literal(_scan(preview), ["job_name"], p, xss_origin)
    # Typed into the form: the reasons come back through fetch + DOMParser.
    w.page.goto(f"{xss_origin}/configurateur")
    for p in PAYLOADS[:3]:
        w.page.locator("#c-accent").fill(p.text)
        until(w.page, f"document.querySelector('#sortie .bad') && "
                      f"document.querySelector('#sortie .bad').textContent.includes({p.text[:10]!r})")
        _scan(w.page.main_frame, CONFIGURATOR)
    w.settle()


# --- the widget's own form: reflected through /widget/results, fetch and DOMParser ---------------

def test_typed_searches_come_back_as_text(watched, xss_origin):
    w = watched(bypass_csp=True)
    w.page.goto(f"{xss_origin}/widget?{urlencode(BASE)}")
    for p in [p for p in PAYLOADS if p.kind in ("html", "attr")][:8]:
        edit_search(w.page)
        w.page.locator("#w-job").fill(p.text)
        w.page.locator("#w-place").fill(p.text)
        w.page.keyboard.press("Escape")
        w.page.locator("button.go").click()
        until(w.page, "document.getElementById('w-status').textContent !== 'Recherche en cours…' && "
                      "!document.getElementById('w-results').hasAttribute('aria-busy')")
        report = _scan(w.page.main_frame)
        # The server either resolved what was typed (a métier, a commune) or says it did not, quoting it.
        job = w.page.locator("#w-job").input_value()
        assert job != p.text or _has(report["notes"], f"« {p.text[:60]} »")
        place = w.page.locator("#w-place").input_value()
        assert place != p.text or _has(report["notes"], f"« {p.text[:60]} »")
    w.settle()


# --- imported data --------------------------------------------------------------------------------

FORMATION_FIELDS = ["title", "centre_name", "trainer_name", "address", "city", "diploma_label", "diploma_type",
                    "entry_periods"]
OFFER_FIELDS = ["title", "company_name", "description", "city", "contract_type"]
RECRUITER_FIELDS = ["name", "address", "city"]
URL_PAYLOADS = [p.text for p in PAYLOADS if p.kind == "url"]
N_ITEMS = 8      # more than a page (6): "Voir plus" brings the rest through /widget/results


def _imported_items() -> dict[str, list[dict[str, Any]]]:
    """Items around Lyon whose every shown text field is a payload (each payload used at least once)."""
    texts = [p.text for p in PAYLOADS]
    slot = iter(range(10_000))

    def next_text() -> str:
        return texts[next(slot) % len(texts)]

    items: dict[str, list[dict[str, Any]]] = {"formations": [], "offers": [], "recruiters": []}
    for i in range(N_ITEMS):
        at = LYON if i % 2 else VILLEURBANNE
        url = URL_PAYLOADS[i % len(URL_PAYLOADS)]
        items["formations"].append(formation(f"xss-f{i}", at, ["D1102"], url=url, postal_code="69001",
                                             **{f: next_text() for f in FORMATION_FIELDS}))
        items["offers"].append(offer(f"xss-o{i}", at, ["D1102"], url=url, postal_code="69001",
                                     **{f: next_text() for f in OFFER_FIELDS}))
        items["recruiters"].append(recruiter(f"xss-r{i}", at, ["D1102"], url=url, email=next_text(),
                                             phone=next_text(), **{f: next_text() for f in RECRUITER_FIELDS}))
    assert next(slot) >= len(texts)
    return items


@pytest.fixture(scope="module")
def imported() -> dict[str, list[dict[str, Any]]]:
    return _imported_items()


@pytest.fixture(scope="module")
def imported_origin(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, imported) -> Iterator[str]:
    path = build(tmp_path_factory.mktemp("xss") / "xss.sqlite", data_dir, formations=imported["formations"],
                 offers=imported["offers"], recruiters=imported["recruiters"])
    settings = Settings.from_env({}, dataset_path=path, reload_interval=0.0, rate_per_ip=0.0, rate_per_caller=0.0)
    with ThreadedServer(create_app(settings)) as server:
        yield server.origin


@pytest.fixture(scope="module")
def imported_host(imported_origin: str) -> Iterator[str]:
    with ThreadedServer(host_app(imported_origin)) as server:
        yield server.origin


def _shown_texts(imported: dict[str, list[dict[str, Any]]]) -> list[str]:
    out = []
    for f in imported["formations"]:
        out += [f[k] for k in FORMATION_FIELDS]
    for o in imported["offers"]:
        out += [o[k] for k in OFFER_FIELDS]
    for r in imported["recruiters"]:
        out += [r[k] for k in RECRUITER_FIELDS] + [r["phone"]]      # "Appeler le <phone>"
    return out


def test_imported_data_comes_back_unchanged_from_the_api(imported_origin, imported):
    response = httpx.get(f"{imported_origin}/api/v1/search",
                         params={"caller": CALLER, "romes": "D1102", "insee": "69123", "limit": "100"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    body = response.json()
    got = {item["id"]: item for kind in ("formations", "offers", "recruiters") for item in body[kind]["results"]}
    assert len(got) == 3 * N_ITEMS
    for f in imported["formations"]:
        item = got[f"formation:{f['key']}"]
        # Text comes back unchanged (escaping is the page's job); an unsafe link never does (issue 13).
        assert item["title"] == f["title"] and item["url"] == safe_link(f["url"])
        assert item["formation"]["training_centre"]["name"] == f["centre_name"]
        assert item["company"]["name"] == f["trainer_name"]
        assert (item["place"]["address"], item["place"]["city"]) == (f["address"], f["city"])
        assert (item["formation"]["diploma"], item["formation"]["diploma_type"]) == (f["diploma_label"],
                                                                                      f["diploma_type"])
        assert item["dates"]["entry_periods"] == f["entry_periods"]
    for o in imported["offers"]:
        item = got[f"offer:{o['key']}"]
        assert (item["title"], item["company"]["name"], item["place"]["city"]) == (o["title"], o["company_name"],
                                                                                    o["city"])
        assert (item["offer"]["description"], item["offer"]["contract_type"]) == (o["description"],
                                                                                  o["contract_type"])
    for r in imported["recruiters"]:
        item = got[f"recruiter:{r['key']}"]
        assert (item["title"], item["place"]["address"], item["place"]["city"]) == (r["name"], r["address"],
                                                                                     r["city"])
        assert (item["recruiter"]["email"], item["recruiter"]["phone"]) == (r["email"], r["phone"])


def test_imported_data_shows_as_text_in_the_widget(watched, imported_origin, imported_host, imported):
    expected = _shown_texts(imported)
    # Without the CSP (the escaping alone), then with it, embedded by the loader.
    w = watched(bypass_csp=True)
    w.page.goto(f"{imported_origin}/widget?{urlencode(BASE)}")
    frame = w.page.main_frame
    for kind in ("formations", "offers", "recruiters"):   # "Voir plus": /widget/results?part=items, DOMParser
        w.page.locator(f".sec[data-type={kind}] a.more").click()
        until(frame, f"document.querySelectorAll('.sec[data-type={kind}] .list .it').length === {N_ITEMS}")
    report = _scan(frame)
    missing = [t[:60] for t in expected if t not in report["text"]]
    assert missing == []
    titles = frame.evaluate("[...document.querySelectorAll('.sec .list .it')].map(e => e.dataset.title)")
    assert sorted(titles) == sorted([f["title"] for f in imported["formations"]] +
                                    [o["title"] for o in imported["offers"]] +
                                    [r["name"] for r in imported["recruiters"]])
    # Links from imported data: http(s) only (a javascript:, data: or //host URL gets no link at all).
    links = frame.evaluate("""[...document.querySelectorAll('.sec .list .it')].map(e => [e.dataset.id,
        [...e.querySelectorAll('.links a[target=_blank]')].map(a => a.getAttribute('href'))
          .filter(h => !/^https:[/][/]www[.](openstreetmap[.]org|francecompetences[.]fr)[/]/.test(h))])""")
    urls = {f"{kind}:{i['key']}": i["url"] for kind, key in (("formation", "formations"), ("offer", "offers"),
                                                             ("recruiter", "recruiters")) for i in imported[key]}
    for item_id, hrefs in links:
        assert hrefs == ([urls[item_id]] if urls[item_id].lower().startswith(("https://", "http://")) else [])
    edit_search(w.page)
    w.page.locator("button.go").click()                  # a new search: /widget/results, DOMParser, replaceChildren
    until(frame, "!document.getElementById('w-results').hasAttribute('aria-busy')")
    _scan(frame)
    for summary in w.page.locator(".it summary").all()[:6]:
        summary.click()

    w2 = watched()
    w2.page.goto(f"{imported_host}/container?{urlencode(BASE)}")
    embedded = widget_frame(w2.page)
    report = _scan(embedded)
    by_key = {f"formation:{f['key']}": f for f in imported["formations"]}
    shown = embedded.evaluate("[...document.querySelectorAll('.sec[data-type=formations] .it')].map(e => e.dataset.id)")
    assert len(shown) == 6
    assert [by_key[i][k][:60] for i in shown for k in FORMATION_FIELDS if by_key[i][k] not in report["text"]] == []
    first = embedded.locator(".sec[data-type=formations] .it").first
    first.locator("summary").click()
    click = wait_event(w2.page, "result-click")[0]["detail"]
    assert click["title"] in [f["title"] for f in imported["formations"]]
    w2.page.goto(f"{imported_origin}/api/v1/search?{urlencode({**BASE, 'limit': 100})}")   # the JSON, opened
    assert w2.page.evaluate("document.contentType") == "application/json"
