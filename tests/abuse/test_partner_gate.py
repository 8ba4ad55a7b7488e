"""Issue 13, points 3 and 4: the caller is read once, decoded, by every gate; a partner's budget is its own."""

from __future__ import annotations

import json
import re

ENCODED = "%63aller"   # "caller" with its first letter percent-encoded


def _code(answer: bytes) -> str | None:
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    return body.get("error", {}).get("code")


def test_strict_mode_sees_a_percent_encoded_caller(strict_server) -> None:
    with strict_server.watch():
        status, answer = strict_server.get(f"/api/v1/search?{ENCODED}=unknown.fr&romes=D1102")
    assert status == 403 and _code(answer) == "unknown_caller"
    status, _ = strict_server.get("/api/v1/search?caller=unknown.fr&romes=D1102")
    assert status == 403


def test_open_mode_holds_a_registered_name_to_its_origins_however_spelt(open_server) -> None:
    status, answer = open_server.get(f"/api/v1/search?{ENCODED}=partner.fr&romes=D1102",
                                     (("Origin", "https://evil.example"),))
    assert status == 403 and _code(answer) == "origin_not_allowed"


def test_the_per_caller_limit_counts_a_percent_encoded_caller(open_server) -> None:
    own = (("Origin", "https://www.limited.fr"),)
    with open_server.watch():
        codes = [open_server.get(f"/api/v1/search?{ENCODED}=limited.fr&romes=D1102", own)[0] for _ in range(6)]
    assert 429 in codes


def test_the_metrics_count_a_percent_encoded_caller(open_server) -> None:
    def count() -> float:
        found = re.search(r'widget_caller_requests_total\{caller="partner\.fr"\} ([0-9.]+)', open_server.metrics())
        return float(found.group(1)) if found else 0.0

    before = count()
    open_server.get(f"/api/v1/search?{ENCODED}=partner.fr&romes=D1102", (("Origin", "https://www.partner.fr"),))
    assert count() == before + 1


def test_anonymous_traffic_under_a_partner_name_does_not_spend_its_budget(open_server) -> None:
    with open_server.watch():
        flood = [open_server.get("/api/v1/search?caller=quota.fr&romes=D1102")[0] for _ in range(12)]
    assert 429 in flood                               # the anonymous budget ran out...
    own = open_server.get("/api/v1/search?caller=quota.fr&romes=D1102", (("Origin", "https://www.quota.fr"),))
    assert own[0] == 200                              # ...the partner's visitors still get answers
    page = open_server.get("/widget?caller=quota.fr&romes=D1102&parent_origin=https://www.quota.fr")
    assert page[0] == 200
