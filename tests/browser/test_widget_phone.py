"""Phone first (390×844) and desktop: the first result on the first screen, results brought into view,
widening in one tap, landmarks (issue 11, points 5, 6 and 10)."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from .browser_tools import axe_landmarks, edit_search, run_axe, until, wait_event, widget_frame

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LYON_BAKER = {"caller": "hote.test", "romes": "D1102", "job_name": "Boulanger", "insee": "69123"}


def host(host_origin: str, page: str = "container", **params: str) -> str:
    return f"{host_origin}/{page}?{urlencode(params)}"


def top_in_page(page, frame, selector: str) -> float:
    """Where an element of the widget is, in the host page's viewport (px from its top)."""
    frame_top = page.locator("iframe").first.evaluate("f => f.getBoundingClientRect().top")
    return frame_top + frame.locator(selector).first.evaluate("e => e.getBoundingClientRect().top")


@pytest.mark.parametrize("size", [PHONE, {"width": 1280, "height": 800}], ids=["phone", "desktop"])
def test_a_preconfigured_widget_shows_its_first_result_on_the_first_screen(open_page, host_origin, size) -> None:
    p = open_page(**size)
    p.page.goto(host(host_origin, **LYON_BAKER))
    wait_event(p.page, "ready")
    frame = widget_frame(p.page)
    assert frame.locator("#w-fbox").get_attribute("open") is None
    assert frame.locator("#w-fsum-t").inner_text().startswith("Boulanger · Lyon")
    first = top_in_page(p.page, frame, ".sec .it")
    assert 0 < first < size["height"] - 60, first        # its title line is visible without scrolling


def test_after_a_search_on_a_phone_the_results_come_into_view_on_the_host_page(open_page, host_origin) -> None:
    p = open_page(**PHONE)
    p.page.goto(host(host_origin, "long", **LYON_BAKER))
    wait_event(p.page, "ready")
    frame = widget_frame(p.page)
    p.page.locator("#box").scroll_into_view_if_needed()
    edit_search(frame)
    frame.locator("#w-radius").select_option("60")
    # Scrolled to the form's bottom, as a visitor tapping "Rechercher" would be.
    frame.locator("button.go").scroll_into_view_if_needed()
    before = p.page.evaluate("scrollY")
    frame.locator("button.go").click()
    wait_event(p.page, "search")
    until(frame, "document.activeElement && document.activeElement.id === 'w-status'")
    assert frame.locator("#w-fbox").get_attribute("open") is None          # folded again
    assert "60 km" in frame.locator("#w-fsum-t").inner_text()
    # The host page scrolls (smoothly) until the status line and the first result are on screen.
    p.page.wait_for_function("() => Math.abs(window.scrollY - (window.__lastY || -1)) < 1 || "
                             "(window.__lastY = window.scrollY, false)", polling=200, timeout=5000)
    status = top_in_page(p.page, frame, "#w-status")
    assert 0 <= status < PHONE["height"] * 0.5, status
    assert top_in_page(p.page, frame, ".sec .it") < PHONE["height"]
    assert p.page.evaluate("scrollY") != before
    assert "Pour « Boulanger » à moins de 60 km" in frame.locator("#w-status").inner_text()


def test_an_empty_section_widens_in_one_tap(open_page, widget_origin) -> None:
    # Found from the API: a search with an empty section and a radius that fills it.
    for romes, insee in (("D1202", "48095"), ("I1607", "48095"), ("A1407", "48095"), ("K2402", "15014")):
        body = httpx.get(f"{widget_origin}/api/v1/search",
                         params={"caller": "t", "romes": romes, "insee": insee, "radius": 10}).json()
        kinds = [k for k in ("offers", "recruiters", "formations")
                 if body[k]["count"] == 0 and body[k]["suggested_radius_km"]]
        if kinds:
            break
    else:
        pytest.fail("no search with an empty section")
    kind, wider = kinds[0], body[kinds[0]]["suggested_radius_km"]
    p = open_page(**PHONE)
    p.page.goto(f"{widget_origin}/widget?" + urlencode({"caller": "t", "romes": romes, "insee": insee,
                                                          "radius": 10, "job_name": "Métier"}))
    button = p.page.locator(f'.sec[data-type="{kind}"] a[data-radius="{wider}"]')
    assert button.is_visible()
    button.click()
    until(p.page, f"document.querySelector('#w-inner') && !document.querySelector('#w-results[aria-busy]')"
                  f" && /{wider} km/.test(document.getElementById('w-fsum-t').textContent)")
    assert p.page.locator(f'.sec[data-type="{kind}"] .list .it').count() > 0
    assert p.page.locator("#w-radius").input_value() == str(wider)


def test_the_page_has_its_landmarks_and_nothing_serious(open_page, widget_origin) -> None:
    p = open_page(bypass_csp=True, **PHONE)
    p.page.goto(f"{widget_origin}/widget?" + urlencode(LYON_BAKER))
    assert run_axe(p.page) == []
    assert axe_landmarks(p.page) == []
    p.page.locator("#w-fsum").click()                       # unfolded: still fine
    assert run_axe(p.page) == []
