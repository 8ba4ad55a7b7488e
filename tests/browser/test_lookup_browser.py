"""Typed wrong, in real Chromium: grouped métier suggestions and "Vouliez-vous dire …" for places."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from .browser_tools import run_axe, until, widget_frame

pytestmark = pytest.mark.browser


def host(host_origin: str, **params: str) -> str:
    return f"{host_origin}/container?{urlencode(params)}"


def test_metier_suggestions_are_grouped_and_keyboard_usable(open_page, host_origin):
    p = open_page(bypass_csp=True)   # for axe's inline script only
    p.page.goto(host(host_origin, caller="hote.test"))
    frame = widget_frame(p.page)
    job = frame.locator("#w-job")
    job.focus()
    p.page.keyboard.type("esthétique", delay=20)
    frame.wait_for_selector("#w-job-list [role=group] [role=option]")
    groups = frame.locator("#w-job-list > [role=group]")
    names = [groups.nth(i).evaluate("g => document.getElementById(g.getAttribute('aria-labelledby')).textContent")
             for i in range(groups.count())]
    assert names == ["Métiers", "Diplômes"]
    assert frame.locator("#w-job-list [role=group][aria-labelledby] [role=option]").count() == \
        frame.locator("#w-job-list [role=option]").count()
    # The arrows go from the last métier on to the first diploma, and the active option is announced.
    n_metiers = groups.nth(0).locator("[role=option]").count()
    for _ in range(n_metiers + 1):
        p.page.keyboard.press("ArrowDown")
    active = job.get_attribute("aria-activedescendant")
    option = frame.locator(f"#{active}")
    assert option.get_attribute("aria-selected") == "true"
    assert option.evaluate("o => o.closest('[role=group]').getAttribute('aria-labelledby')") == \
        groups.nth(1).get_attribute("aria-labelledby")
    assert "Diplômes" in frame.locator("#cb-live").inner_text()
    assert run_axe(frame) == []
    p.page.keyboard.press("Enter")
    assert job.get_attribute("aria-expanded") == "false"
    assert frame.locator("input[name=romes]").input_value()
    job.focus()
    p.page.keyboard.type(" ")
    frame.wait_for_selector("#w-job-list [role=option]")
    p.page.keyboard.press("Escape")
    assert job.get_attribute("aria-expanded") == "false"


def test_a_misspelt_place_keeps_the_text_and_asks(open_page, host_origin):
    p = open_page(bypass_csp=True)
    p.page.goto(host(host_origin, caller="hote.test", romes="D1102", job_name="Boulanger"))
    frame = widget_frame(p.page)
    place = frame.locator("#w-place")
    place.fill("Mendee")
    place.press("Enter")          # no option active: Enter submits what was typed
    frame.wait_for_selector("#w-dym")
    frame.wait_for_selector("#w-place-list [role=option]", state="attached")   # the lookup has answered
    place.press("Escape")
    assert place.input_value() == "Mendee"                     # the text stays
    assert frame.locator(".sec[data-type=formations]").count() == 0   # nothing ran France-wide
    assert "toute la France" not in frame.locator("#w-status").inner_text()
    links = frame.locator("#w-dym a.dym")
    assert links.nth(0).inner_text() == "Mende (48)"
    assert links.last.inner_text() == "Chercher dans toute la France"
    assert run_axe(frame) == []
    links.nth(0).click()
    until(frame, "document.getElementById('w-status').textContent.includes('Mende')")
    assert frame.locator("input[name=insee]").input_value() == "48095"
    assert place.input_value() == "Mende (48)"
    assert frame.locator("#w-dym").count() == 0


def test_all_of_france_only_when_chosen(open_page, host_origin):
    p = open_page()
    p.page.goto(host(host_origin, caller="hote.test", romes="D1102", job_name="Boulanger", place="Zzqxw"))
    frame = widget_frame(p.page)
    frame.wait_for_selector("#w-dym")
    assert frame.locator(".sec[data-type=formations]").count() == 0
    assert frame.locator("#w-dym a.dym").count() == 1
    frame.locator("#w-dym a.dym").click()
    until(frame, "document.getElementById('w-status').textContent.includes('toute la France')")
    assert frame.locator("#w-place").input_value() == ""
    assert frame.locator(".sec[data-type=formations] .it").count() > 0


def test_place_typo_suggestions_say_they_are_corrections(open_page, host_origin):
    p = open_page()
    p.page.goto(host(host_origin, caller="hote.test"))
    frame = widget_frame(p.page)
    frame.locator("#w-place").focus()
    p.page.keyboard.type("Lyonn", delay=20)
    frame.wait_for_selector("#w-place-list [role=group] [role=option]")
    heading = frame.locator("#w-place-list .cb-h").first.text_content()
    assert heading.startswith("Vouliez-vous dire")
    assert frame.locator("#w-place-list [role=option]").first.inner_text().startswith("Lyon (69)")
