"""The widget in real Chromium, embedded in a partner page of another origin."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from .browser_tools import events, run_axe, until, wait_event, widget_frame, edit_search

pytestmark = pytest.mark.browser

# 33 real formations in computing around Toulouse: enough for "Voir plus" whatever the demo data.
TOULOUSE_IT = {"caller": "hote.test", "romes": "M1805", "job_name": "Informatique", "insee": "31555"}
LYON_BAKER = {"caller": "hote.test", "romes": "D1102", "job_name": "Boulanger", "insee": "69123"}


def host(host_origin: str, page: str = "container", **params: str) -> str:
    return f"{host_origin}/{page}?{urlencode(params)}"


def frame_height(page, index: int = 0) -> int:
    return page.locator("iframe").nth(index).evaluate("f => Math.round(f.getBoundingClientRect().height)")


def content_height(frame) -> int:
    return frame.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)")


def wait_sized(page, frame, index: int = 0) -> None:
    """Until the iframe is as tall as the widget's content (the resize messages have arrived)."""
    page.wait_for_function("([i, h]) => Math.abs(document.querySelectorAll('iframe')[i]"
                           ".getBoundingClientRect().height - h) <= 1", arg=[index, content_height(frame)],
                           timeout=10_000)


def test_first_results_show_inside_the_partner_page(open_page, host_origin, widget_origin):
    p = open_page()
    p.page.goto(host(host_origin, **TOULOUSE_IT))
    frame = widget_frame(p.page)
    assert frame.url.startswith(widget_origin + "/widget?")
    assert frame.locator(".sec[data-type=formations] .it").count() == 6
    # The status line says what the API counts within the radius (30 km by default).
    api = httpx.get(f"{widget_origin}/api/v1/search", params={"caller": "hote.test", "romes": "M1805", "insee": "31555", "radius": 30}).json()
    assert f"{api['formations']['count']} formations" in frame.locator("#w-status").inner_text()
    ready = wait_event(p.page, "ready")[0]["detail"]
    assert ready["notices"] == [] and ready["query"]["romes"] == ["M1805"]
    assert p.page.locator("iframe").get_attribute("title")
    p.page.wait_for_function("getComputedStyle(document.querySelector('iframe')).opacity === '1'")


def test_script_tag_inserts_the_widget_right_after_itself(open_page, host_origin, widget_origin):
    p = open_page()
    p.page.goto(host(host_origin, "script", **LYON_BAKER, loading="lazy", title="Apprentissage"))
    widget_frame(p.page)
    order = p.page.evaluate("[...document.body.children].map(e => e.id || e.className || e.tagName)")
    assert order.index("loader") + 1 == order.index("alternance-widget") < order.index("after")
    iframe = p.page.locator("iframe")
    assert iframe.get_attribute("loading") == "lazy" and iframe.get_attribute("title") == "Apprentissage"
    src = iframe.get_attribute("src")
    assert src.startswith(widget_origin + "/widget?") and "loading=" not in src and "title=" not in src
    assert f"parent_origin={host_origin.replace(':', '%3A').replace('/', '%2F')}" in src


def test_messages_are_checked_both_ways(open_page, host_origin):
    p = open_page(width=1000)
    p.page.goto(f"{host_origin}/two")
    a = widget_frame(p.page, 0)
    wait_event(p.page, "ready", 2)
    # A message from the wrong window or origin is ignored by the loader...
    p.page.evaluate("""() => {
        const id = document.getElementById('a').alternanceWidgetId;
        window.postMessage({ns: 'alternance-widget', v: 1, id, type: 'navigate',
                            payload: {uri: '/', url: 'https://evil.example/'}}, '*');
    }""")
    # ...and by the widget: right envelope, wrong id.
    p.page.evaluate("""() => document.querySelector('#a iframe').contentWindow.postMessage(
        {ns: 'alternance-widget', v: 1, id: 'someone-else', type: 'theme', payload: {theme: 'dark'}}, '*')""")
    p.page.wait_for_timeout(200)
    assert events(p.page, "navigate") == []
    assert a.evaluate("document.documentElement.dataset.theme") == "light"
    p.page.evaluate("window.alternanceWidget.setTheme(document.getElementById('a'), 'dark')")
    until(a, "document.documentElement.dataset.theme === 'dark'")


def test_the_iframe_height_follows_its_content(open_page, host_origin):
    p = open_page()
    p.page.goto(host(host_origin, **TOULOUSE_IT))
    frame = widget_frame(p.page)
    wait_sized(p.page, frame)
    first = frame_height(p.page)
    frame.locator(".sec[data-type=formations] a.more").click()
    until(frame, "document.querySelectorAll('.sec[data-type=formations] .it').length === 12")
    wait_sized(p.page, frame)
    taller = frame_height(p.page)
    assert taller > first + 200
    edit_search(frame)
    frame.locator("#w-radius").select_option("10")
    frame.locator("input[name=types][value=recruiters]").uncheck()
    frame.locator("input[name=types][value=offers]").uncheck()
    frame.locator("button.go").click()
    until(frame, "document.querySelectorAll('.sec[data-type=formations] .it').length === 6 "
                            "&& !document.querySelector('.sec[data-type=offers]')")
    wait_sized(p.page, frame)
    assert frame_height(p.page) < taller
    assert p.page.evaluate("document.documentElement.scrollWidth") <= 420


def test_a_keyboard_only_search(open_page, host_origin):
    p = open_page()
    p.page.goto(host(host_origin, caller="hote.test"))
    frame = widget_frame(p.page)
    assert "Choisissez un métier" in frame.locator("#w-status").inner_text()
    job = frame.locator("#w-job")
    job.focus()
    p.page.keyboard.type("boulang", delay=20)
    frame.wait_for_selector("#w-job-list [role=option]")
    assert job.get_attribute("role") == "combobox" and job.get_attribute("aria-expanded") == "true"
    assert job.get_attribute("aria-controls") == "w-job-list"
    p.page.keyboard.press("ArrowDown")
    active = job.get_attribute("aria-activedescendant")
    assert active and frame.locator(f"#{active}").get_attribute("aria-selected") == "true"
    p.page.keyboard.press("Enter")
    assert job.get_attribute("aria-expanded") == "false"
    assert job.input_value().startswith("Boulanger") and frame.locator("input[name=romes]").input_value() == "D1102"
    p.page.keyboard.press("Tab")
    assert frame.evaluate("document.activeElement.id") == "w-place"
    p.page.keyboard.type("lyon", delay=20)
    frame.wait_for_selector("#w-place-list [role=option]")
    p.page.keyboard.press("ArrowDown")
    p.page.keyboard.press("Enter")
    assert frame.locator("input[name=insee]").input_value() == "69123"
    p.page.keyboard.press("Escape")
    p.page.keyboard.press("Enter")            # the list is closed: Enter submits the form
    until(frame, "document.getElementById('w-status').textContent.includes('Lyon')")
    assert frame.locator(".sec[data-type=formations] .it").count() > 0
    search = wait_event(p.page, "search")[0]["detail"]
    assert search["romes"] == ["D1102"] and search["insee"] == "69123"
    assert "insee=69123" in frame.url          # the iframe's address follows, for a reload


def test_a_result_click_reaches_the_host_page(open_page, host_origin):
    p = open_page()
    p.page.goto(host(host_origin, **TOULOUSE_IT))
    frame = widget_frame(p.page)
    first = frame.locator(".sec[data-type=formations] .it").first
    first.locator("summary").click()
    click = wait_event(p.page, "result-click")[0]
    assert click["target"] == "box"
    assert click["detail"]["action"] == "details" and click["detail"]["type"] == "formation"
    assert click["detail"]["id"] == first.get_attribute("data-id")
    link = first.locator("a[target=_blank]").first
    assert link.get_attribute("rel") == "noopener"


def test_return_uri_reaches_the_host_as_a_navigate_event(open_page, host_origin):
    p = open_page()
    p.page.goto(host(host_origin, **LYON_BAKER, return_uri="/retour?depuis=widget"))
    frame = widget_frame(p.page)
    back = frame.locator("#w-back")
    assert back.get_attribute("href") == f"{host_origin}/retour?depuis=widget"
    back.click()
    navigate = wait_event(p.page, "navigate")[0]["detail"]
    assert navigate == {"uri": "/retour?depuis=widget", "url": f"{host_origin}/retour?depuis=widget"}
    assert p.page.url.startswith(host_origin + "/container")   # the page prevented the default


def test_bad_parameters_go_to_the_console_and_only_a_stopping_one_to_visitors(open_page, host_origin):
    p = open_page()
    p.page.goto(host(host_origin, romes="D11X,D1102", scope="partout"))
    frame = widget_frame(p.page)
    # The search still runs (D1102): nothing for visitors, everything for the webmaster's console.
    assert frame.locator(".ntc").count() == 0
    assert frame.locator(".it").count() > 0          # still shows what it can (D1102)
    errors = wait_event(p.page, "error", 3)
    assert {e["detail"]["param"] for e in errors} >= {"caller", "romes", "scope"}
    p.page.wait_for_timeout(200)   # console messages reach Playwright a little after the events
    logged = [line for line in p.console if "[alternance-widget]" in line]
    assert any(line.startswith("error: [alternance-widget] caller (data-caller)") for line in logged)
    assert any("romes" in line for line in logged) and any("scope" in line for line in logged)
    # No ROME code left to search: that one the visitor sees.
    p.page.goto(host(host_origin, romes="D11X"))
    assert "D11X" in widget_frame(p.page).locator(".ntc").inner_text()


def test_two_widgets_on_one_page_keep_their_own_messages(open_page, host_origin):
    p = open_page(width=1000)
    p.page.goto(f"{host_origin}/two")
    a, b = widget_frame(p.page, 0), widget_frame(p.page, 1)
    ready = wait_event(p.page, "ready", 2)
    assert {e["target"] for e in ready} == {"a", "b"}
    assert b.evaluate("document.documentElement.dataset.theme") == "dark"
    assert a.locator(".sec").count() == 4 and b.locator(".sec[data-type=offers]").count() == 0
    wait_sized(p.page, a, 0)
    wait_sized(p.page, b, 1)
    assert frame_height(p.page, 0) != frame_height(p.page, 1)


def test_without_javascript_the_first_results_show_and_the_form_works(open_page, widget_origin):
    p = open_page(javascript=False)
    p.page.goto(f"{widget_origin}/widget?{urlencode(TOULOUSE_IT)}")
    assert p.page.locator(".sec[data-type=formations] .it").count() == 6
    assert p.page.locator("#w-job").get_attribute("role") is None      # a plain field until a script upgrades it
    edit_search(p.page)
    p.page.locator("#w-job").fill("boulanger")
    p.page.locator("#w-place").fill("Lyon")
    p.page.locator("button.go").click()
    p.page.wait_for_url("**/widget?*")
    assert "Lyon" in p.page.locator("#w-status").inner_text()
    assert p.page.locator("input[name=romes]").input_value() == "D1102"
    p.page.locator(".sec a.more").first.click()                         # a real link to the next page
    assert "page=2" in p.page.url and p.page.locator(".it").count() > 0


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_the_widget(open_page, widget_origin, theme):
    p = open_page(bypass_csp=True)
    params = {**TOULOUSE_IT, "theme": theme, "accent": "#ffcc00", "return_uri": "/"}
    p.page.goto(f"{widget_origin}/widget?{urlencode(params)}")
    p.page.locator(".sec[data-type=formations] summary").first.click()
    p.page.locator(".pair summary").first.click()
    assert run_axe(p.page) == []
    p.page.goto(f"{widget_origin}/widget?{urlencode({'romes': 'X', 'scope': 'y', 'theme': theme})}")
    p.page.locator("#w-job").focus()
    p.page.keyboard.type("boulang")
    p.page.wait_for_selector("#w-job-list [role=option]")
    p.page.keyboard.press("ArrowDown")
    assert run_axe(p.page) == []


def test_axe_finds_nothing_serious_in_the_configurator(open_page, widget_origin):
    p = open_page(bypass_csp=True, width=1200)
    p.page.goto(f"{widget_origin}/configurateur")
    assert "Pas encore de code" in p.page.locator("#sortie").inner_text()
    assert run_axe(p.page) == []
    p.page.goto(f"{widget_origin}/configurateur?{urlencode(LYON_BAKER)}")
    p.page.wait_for_selector("#sortie iframe")
    assert run_axe(p.page) == []


def test_the_configurator_updates_its_preview_and_refuses_invalid_settings(open_page, widget_origin):
    p = open_page(width=1200)
    p.page.goto(f"{widget_origin}/configurateur")
    p.page.locator("#c-caller").fill("mon-site.fr")
    p.page.locator("#c-job").focus()
    p.page.keyboard.type("boulang")
    p.page.wait_for_selector("#c-job-list [role=option]")
    p.page.keyboard.press("ArrowDown")
    p.page.keyboard.press("Enter")
    p.page.wait_for_selector("#code-script")
    snippet = p.page.locator("#code-script").inner_text()
    assert 'data-caller="mon-site.fr"' in snippet and 'data-romes="D1102"' in snippet and "/widget.js" in snippet
    assert "<iframe" in p.page.locator("#code-iframe").inner_text()
    widget_frame(p.page)                                         # the live preview, through the real loader
    p.page.locator("#c-accent").fill("rouge")
    # A warning: the widget ignores the colour, so the preview and the snippet stay, the message
    # sits next to the field.
    until(p.page, "document.getElementById('c-accent-e').textContent.includes('accent')")
    assert p.page.locator("#c-accent").get_attribute("aria-invalid") == "true"
    assert p.page.locator("#code-script").is_visible() and "rouge" not in p.page.locator("#code-script").inner_text()
    assert "accent" in p.page.locator("#sortie .warn").inner_text()
    p.page.locator("#c-accent").fill("#00aa77")
    until(p.page, "document.getElementById('c-accent-e').textContent === ''")
    assert 'data-accent="#00aa77"' in p.page.locator("#code-script").inner_text()
    p.page.locator("#c-caller").fill("")
    until(p.page, "!document.getElementById('code-script')")
    assert "caller" in p.page.locator("#c-caller-e").inner_text()
    assert not [line for line in p.console if line.startswith("error")]


def test_the_configurator_logs_nothing_on_a_clean_load(open_page, widget_origin):
    for query in ("", "?" + urlencode(LYON_BAKER)):
        p = open_page(width=1200)
        p.page.goto(f"{widget_origin}/configurateur{query}")
        p.page.wait_for_load_state("networkidle")
        if query:
            widget_frame(p.page)
        assert not [line for line in p.console if line.startswith(("error", "warning"))], p.console


@pytest.mark.parametrize("path", ["/widget?{q}&theme=dark&return_uri=/&accent=0a7", "/configurateur?{q}", "/"])
def test_nothing_overflows_320_pixels(open_page, widget_origin, path):
    p = open_page(width=320, height=640)
    p.page.goto(widget_origin + path.format(q=urlencode({**TOULOUSE_IT, "romes": "M1805,X1"})))
    for summary in p.page.locator("summary").all()[:8]:
        summary.click()
    assert p.page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("name", ["script-tag.html", "two-widgets.html", "iframe-lba-url.html", "events.html"])
def test_the_embed_examples_work_as_served(open_page, widget_origin, name):
    p = open_page(width=1000)
    p.page.goto(f"{widget_origin}/exemples/{name}")
    frame = widget_frame(p.page)
    frame.wait_for_selector(".it")
    assert frame.locator(".ntc").count() == 0
    assert [u for u in p.failed if not u.endswith("/favicon.ico")] == []
    assert not [line for line in p.console if line.startswith("error") and "Failed to load resource" not in line]
    if name == "events.html":
        until(p.page, "document.querySelectorAll('#log li').length > 0")
        assert "alternance:ready" in p.page.locator("#log").inner_text()


def test_a_new_place_replaces_the_partners_point_for_good(open_page, widget_origin):
    p = open_page()
    p.page.goto(f"{widget_origin}/widget?" + urlencode({"caller": "x", "romes": "M1805", "lat": "43.6", "lon": "1.44"}))
    assert p.page.locator("input[name=lat]").input_value() == "43.6"
    edit_search(p.page)
    p.page.locator("#w-place").fill("Lyon")
    p.page.keyboard.press("Escape")
    p.page.locator("button.go").click()
    until(p.page, "document.getElementById('w-status').textContent.includes('Lyon')")
    assert p.page.locator("input[name=lat]").input_value() == ""
    edit_search(p.page)
    p.page.locator("#w-radius").select_option("60")
    p.page.locator("button.go").click()             # the same place again, not the partner's point
    until(p.page, "document.getElementById('w-status').textContent.includes('60 km de Lyon')")
