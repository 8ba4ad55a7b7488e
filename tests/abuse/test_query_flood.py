"""Issue 13, points 1 and 2: one request must not freeze a worker, whatever its query holds."""

from __future__ import annotations

import json
import time

import pytest

UNKNOWN_NAMES = "&".join(f"a{i}" for i in range(16_000))        # ~100 KB of unknown parameter names


def _body(answer: bytes) -> dict:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


@pytest.mark.parametrize("path", ["/api/v1/search", "/api/v1/metiers", "/api/v1/communes"])
def test_thousands_of_unknown_parameters_are_answered_at_once(open_server, path) -> None:
    with open_server.watch():
        started = time.perf_counter()
        status, answer = open_server.get(f"{path}?caller=site.fr&{UNKNOWN_NAMES}", timeout=3.0)
        took = time.perf_counter() - started
    assert status == 414 and _body(answer)["error"]["code"] == "query_too_long"
    assert took < 0.5


def test_too_many_parameters_get_a_400_naming_the_limit(open_server) -> None:
    query = "&".join(f"p{i}=1" for i in range(150))                # short: well under the size limit
    with open_server.watch():
        status, answer = open_server.get(f"/api/v1/search?{query}")
    error = _body(answer)["error"]
    assert status == 400 and error["details"][0]["code"] == "too_many_parameters"
    assert "100" in error["details"][0]["message"]


def test_errors_listed_in_one_answer_are_capped(open_server) -> None:
    query = "&".join(f"p{i}=1" for i in range(95))
    status, answer = open_server.get(f"/api/v1/search?caller=site.fr&romes=D1102&{query}")
    details = _body(answer)["error"]["details"]
    assert status == 400 and len(details) == 20
    assert all(d["code"] == "unknown_parameter" for d in details)


@pytest.mark.parametrize("path", ["/recherche-apprentissage", "/configurateur"])
def test_twenty_thousand_rome_codes_on_the_widget_pages(open_server, path) -> None:
    codes = ",".join(f"{chr(65 + i % 26)}{i % 10000:04d}" for i in range(20_000))
    with open_server.watch():
        started = time.perf_counter()
        status, _ = open_server.get(f"{path}?caller=site.fr&romes={codes}", timeout=3.0)
        took = time.perf_counter() - started
    assert status == 414 and took < 0.5


@pytest.mark.parametrize("path", ["/recherche-apprentissage", "/configurateur"])
def test_a_long_rome_list_within_the_size_limit_is_cut_with_a_notice(open_server, path) -> None:
    codes = ",".join(f"Z{i:04d}" for i in range(1_300))          # 7.8 KB: under the size limit
    with open_server.watch():
        started = time.perf_counter()
        status, answer = open_server.get(f"{path}?caller=site.fr&romes={codes}")
        took = time.perf_counter() - started
    assert status == 200 and took < 0.5
    assert "plus de 100 valeurs" in answer.decode()
