"""La Bonne Alternance's widget URLs, deep links and host-page event, in real Chromium."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from .browser_tools import widget_frame

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lba"))
from lba_urls import LBA_URLS  # noqa: E402

pytestmark = pytest.mark.browser



def test_each_lba_url_shows_the_metier_place_and_scope_without_a_notice(open_page, widget_origin):
    p = open_page(width=900)
    for url, metier, place, shown in LBA_URLS:
        p.page.goto(widget_origin + url)
        assert p.page.locator(".ntc").count() == 0, url
        status = p.page.locator("#w-status").inner_text()
        assert metier.lower() in status.lower(), (url, status)
        assert (place or "dans toute la France") in status, (url, status)
        assert p.page.eval_on_selector_all(".sec[data-type]", "s => s.map(e => e.dataset.type)") == shown, url


def _host(p, host_origin: str, src: str) -> None:
    """A page of the partner's origin holding only a plain iframe (built in place: no loader of ours)."""
    p.page.goto(f"{host_origin}/container")
    p.page.evaluate("""src => {
      document.body.replaceChildren();
      window.got = [];
      window.addEventListener('message', e => {
        if (e.data && e.data.type === 'goToPage') window.got.push({page: e.data.page, origin: e.origin});
      });
      const f = document.createElement('iframe');
      f.referrerPolicy = 'no-referrer';
      f.style.cssText = 'width:380px;height:700px';
      f.src = src;
      document.body.append(f);
    }""", src)


def test_the_back_link_posts_goto_page_to_the_host_origin_and_works_without_referer(open_page, host_origin,
                                                                                   widget_origin):
    p = open_page(width=900)
    _host(p, host_origin, f"{widget_origin}/recherche-apprentissage?romes=D1102&insee=69123&return_uri=/retour")
    frame = widget_frame(p.page)
    back = frame.locator("#w-back")
    assert back.get_attribute("href") == f"{host_origin}/retour"      # found without any Referer
    with p.page.expect_navigation():
        back.click()
    assert p.page.url == f"{host_origin}/retour"          # the host app answers 404 there: the URL is the point


def test_goto_page_message_reaches_the_listening_page(open_page, host_origin, widget_origin):
    p = open_page(width=900)
    _host(p, host_origin, f"{widget_origin}/recherche-apprentissage?romes=D1102&insee=69123&return_uri=/retour")
    frame = widget_frame(p.page)
    # Keep the page in place to read what it heard (the link would navigate it, as on LBA's pages).
    frame.evaluate("document.getElementById('w-back').addEventListener('click', e => e.preventDefault())")
    frame.locator("#w-back").click()
    p.page.wait_for_function("window.got.length > 0")
    assert p.page.evaluate("window.got") == [{"page": "/retour", "origin": widget_origin}]


def test_a_deep_link_opens_the_item_and_a_gone_one_says_so(open_page, host_origin, widget_origin):
    p = open_page(width=900)
    _host(p, host_origin, f"{widget_origin}/recherche-apprentissage?page=fiche&type=training&itemId=AF.79123")
    frame = widget_frame(p.page)
    detail = frame.locator("#w-detail")
    assert detail.get_attribute("data-found") == "true"
    assert detail.locator("details.det").evaluate("d => d.open") and detail.locator("dl").is_visible()
    assert re.search(r"Mulhouse", frame.locator("#w-status").inner_text())
    p2 = open_page(width=900)
    p2.page.goto(f"{widget_origin}/recherche-emploi?type=peJob&itemId=999999&romes=D1102&insee=69123")
    assert p2.page.locator("#w-gone").inner_text().startswith("L'élément recherché n'existe plus")
    assert p2.page.locator(".sec[data-type=offers]").count() == 1 and p2.page.locator(".ntc").count() == 0
