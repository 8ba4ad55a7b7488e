"""widget_server.links: only absolute http(s) links from data are served."""

from __future__ import annotations

import pytest

from widget_server.links import clean_item_urls, clean_record_urls, safe_link


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
                                 "\x01javascript:alert(1)", "data:text/html,x", "vbscript:msgbox(1)",
                                 "//evil.example/x", "/relative", "https:evil.example", "http:/x", "ftp://a.fr/x",
                                 "https://", "", None, 42, "https://a.fr/" + "x" * 3000])
def test_unsafe_links_are_refused(url) -> None:
    assert safe_link(url) is None


def test_safe_links_are_kept_with_control_characters_removed() -> None:
    assert safe_link("https://www.onisep.fr/x?y=1") == "https://www.onisep.fr/x?y=1"
    assert safe_link(" http://a.fr/\n") == "http://a.fr/"


def test_records_and_answers_are_cleaned() -> None:
    records = [{"url": "javascript:alert(1)", "_where": "Ligne 2"}, {"url": "https://a.fr"}, {"url": None}]
    fixed: list[str] = []
    clean_record_urls(records, lambda record, message: fixed.append(record["_where"]))
    assert [r["url"] for r in records] == [None, "https://a.fr", None] and fixed == ["Ligne 2"]
    body = {"formations": {"results": [{"url": "data:x"}]}, "combinations": [{"employer": {"url": "//x"}}]}
    clean_item_urls(body, ["formations", "offers"])
    assert body["formations"]["results"][0]["url"] is None and body["combinations"][0]["employer"]["url"] is None
