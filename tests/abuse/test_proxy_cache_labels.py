"""Issue 13, points 5, 6 and 9: forwarded-for trust, the search cache in bytes, bounded metric labels."""

from __future__ import annotations

import re

import pytest

from tests.abuse.conftest import raw_get, run_server
from widget_server.web.rate_limit import client_address


@pytest.fixture(scope="module")
def proxied(abuse_dataset, tmp_path_factory):
    with run_server(abuse_dataset, tmp_path_factory.mktemp("proxied"), WIDGET_TRUST_PROXY="true",
                    WIDGET_RATE_PER_IP="1", WIDGET_RATE_BURST_PER_IP="2") as server:
        yield server


def test_a_second_forwarded_for_line_from_the_client_is_not_trusted(proxied) -> None:
    # The client writes its own line; the proxy adds its line (the address it saw) after it.
    codes = [proxied.get("/api/v1/metiers?q=boulanger", (("X-Forwarded-For", f"198.51.100.{i}"),
                                                          ("X-Forwarded-For", "203.0.113.9")))[0]
             for i in range(5)]
    assert codes[:2] == [200, 200] and 429 in codes    # one client, 203.0.113.9, whatever it claims


def test_forwarded_for_with_a_chain_of_proxies() -> None:
    def scope(*lines: str) -> dict:
        return {"type": "http", "client": ("10.0.0.2", 1), "headers": [(b"x-forwarded-for", v.encode()) for v in lines]}

    # One proxy: its entry is the last one, whatever the client wrote before it.
    assert client_address(scope("6.6.6.6", "203.0.113.9"), True, 1) == "203.0.113.9"
    # Two proxies (CDN then load balancer): the CDN's entry, second from the end, is the client.
    assert client_address(scope("6.6.6.6, 203.0.113.9", "192.0.2.1"), True, 2) == "203.0.113.9"
    assert client_address(scope("203.0.113.9"), True, 2) == "203.0.113.9"
    assert client_address(scope("6.6.6.6"), False, 1) == "10.0.0.2"


def test_the_search_cache_is_bounded_in_bytes_and_shown(open_server) -> None:
    romes = ["D1102", "D1104", "D1106", "G1602", "G1603", "H2206", "I1604", "K2204", "M1607", "N4101",
             "F1703", "F1602", "J1501", "K1302", "D1507", "G1203", "H2909", "I1304", "M1203", "N1103"]
    with open_server.watch():
        for code in romes:                      # France-wide, 100 results a type: heavy valid answers
            assert open_server.get(f"/api/v1/search?caller=cache.fr&romes={code}&limit=100", timeout=10)[0] == 200
    text = open_server.metrics()
    size = float(re.search(r"^widget_search_cache_bytes ([0-9.e+]+)$", text, re.M).group(1))
    bound = float(re.search(r"^widget_search_cache_max_bytes ([0-9.e+]+)$", text, re.M).group(1))
    assert bound == 0.25 * 1024 * 1024
    assert 0 < size <= bound


def test_one_client_cannot_take_every_caller_label(open_server) -> None:
    with open_server.watch():
        for i in range(15):                      # WIDGET_METRICS_CALLERS=10 on this server
            open_server.get(f"/api/v1/search?caller=spam{i}.example&romes=D1102")
    raw_get(open_server.port, "/api/v1/search?caller=legit.fr&romes=D1102", source="127.0.0.2")
    open_server.get("/api/v1/search?caller=partner.fr&romes=D1102", (("Origin", "https://www.partner.fr"),))
    labels = set(re.findall(r'widget_caller_requests_total\{caller="([^"]+)"\}', open_server.metrics()))
    assert {"legit.fr", "partner.fr"} <= labels
    assert len({label for label in labels if label.startswith("spam")}) <= 3
