"""widget_server.caller: the caller is read once, decoded, for every gate."""

from __future__ import annotations

from widget_server.caller import is_valid_caller, request_caller


def _scope(query: bytes) -> dict:
    return {"type": "http", "query_string": query}


def test_the_caller_is_read_from_the_decoded_query() -> None:
    assert request_caller(_scope(b"caller=a.fr")) == "a.fr"
    assert request_caller(_scope(b"%63aller=a.fr")) == "a.fr"          # the key percent-encoded
    assert request_caller(_scope(b"%63%61%6C%6C%65%72=a%2Efr")) == "a.fr"
    assert request_caller(_scope(b"romes=D1102&caller=+a.fr+&caller=b.fr")) == "a.fr"   # the first, stripped
    assert request_caller(_scope(b"xcaller=a.fr")) is None
    assert request_caller(_scope(b"caller=")) is None
    assert request_caller(_scope(b"")) is None


def test_valid_callers() -> None:
    assert is_valid_caller("mon-site.fr") and is_valid_caller("jean@laposte.net")
    assert not is_valid_caller("") and not is_valid_caller(None) and not is_valid_caller("a b")
    assert not is_valid_caller("x" * 101)
