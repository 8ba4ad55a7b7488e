"""The widget's parameter checks and the accent colour's contrast, as plain functions."""

from __future__ import annotations

import pytest

from widget_server.web.widget_urls import safe_url, valid_origin
from widget_server.web.widget_theme import DARK_BG, LIGHT_BG, contrast, normalise_accent, readable_on, text_on


@pytest.mark.parametrize("value,ok", [
    ("/", True), ("/retour?a=1#b", True), ("https://www.exemple.fr/x", True), ("HTTPS://exemple.fr", True),
    ("http://127.0.0.1:8000/", True), ("http://localhost/retour", True),
    ("http://www.exemple.fr/", False), ("//evil.fr/", False), ("/\\evil.fr", False), ("javascript:alert(1)", False),
    ("JavaScript:alert(1)", False), ("data:text/html,x", False), ("java\tscript:x", False), (" /x", False),
    ("https://", False), ("retour.html", False), ("https://exemple.fr/\nx", False), ("/" + "a" * 2001, False),
])
def test_safe_url(value, ok):
    assert (safe_url(value) is not None) is ok


@pytest.mark.parametrize("value,expected", [
    ("https://www.exemple.fr", "https://www.exemple.fr"), ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("HTTPS://Exemple.FR", "https://exemple.fr"), ("https://exemple.fr/", None), ("https://exemple.fr/page", None),
    ("https://user@exemple.fr", None), ("ftp://exemple.fr", None), ("https://exemple.fr:99999", None),
    ("https://exe mple.fr", None), ("null", None), ("https://[::1]:8443", "https://[::1]:8443"),
])
def test_valid_origin(value, expected):
    assert valid_origin(value) == expected


@pytest.mark.parametrize("raw,expected", [("#0a7", "#00aa77"), ("0A7", "#00aa77"), ("#00AA77", "#00aa77"),
                                          ("#0a", None), ("#00aa7", None), ("red", None), ("#00aa77ff", None),
                                          ("#0a7;x", None)])
def test_accent_is_validated_strictly(raw, expected):
    assert normalise_accent(raw) == expected


@pytest.mark.parametrize("accent", ["#ffcc00", "#ffffff", "#000000", "#00aa77", "#777777", "#1f5fbf", "#ff0000",
                                    "#8080ff", "#16181d", "#f5f6f8"])
def test_text_stays_readable_whatever_the_accent(accent):
    assert contrast(text_on(accent), accent) >= 4.5
    assert contrast(readable_on(accent, LIGHT_BG), LIGHT_BG) >= 4.5
    assert contrast(readable_on(accent, DARK_BG), DARK_BG) >= 4.5
    assert contrast(readable_on(accent, LIGHT_BG), "#ffffff") >= 4.5      # on the page, not only on cards
