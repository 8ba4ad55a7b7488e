"""/metrics after some requests, bounded labels, and JSON access logs without personal data."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import make_client

from widget_server.partners import Partner, PartnerRegistry, parse_origin
from widget_server.settings import Settings
from widget_server.sources.base import Source
from widget_server.web.access_log import LOGGER_NAME, client_network, param_names, public_caller
from widget_server.web.metrics import Metrics


class BrokenSource(Source):
    bucket = "recruiters"

    async def search(self, dataset, query):
        raise RuntimeError("down")


@pytest.fixture(scope="module")
def observed(dataset_path):
    from widget_server.app import create_app, default_sources

    sources = default_sources()
    sources["recruiters"] = BrokenSource()
    settings = Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0, trust_proxy=True)
    with make_client(create_app(settings, sources=sources)) as client:
        yield client


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} {labels}")


def test_metrics_after_some_requests(observed, caplog):
    search = {"caller": "mon-site.fr", "romes": "D1102", "postal_code": "13001", "limit": "2"}
    for _ in range(3):
        observed.get("/api/v1/search", params=search)
    observed.get("/api/v1/metiers", params={"q": "boulanger"})
    observed.get("/api/v1/metiers", params={"q": "b"})
    observed.get("/nulle-part/jean.dupont")
    r = observed.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert _sample(text, "widget_http_requests_total", route="/api/v1/search", method="GET", status="200") == 3
    assert _sample(text, "widget_http_requests_total", route="/api/v1/metiers", status="400") == 1
    assert _sample(text, "widget_http_requests_total", route="unmatched", status="404") == 1
    assert "jean.dupont" not in text                      # raw paths never become labels
    assert _sample(text, "widget_http_request_duration_seconds_count", route="/api/v1/search") == 3
    assert _sample(text, "widget_http_request_duration_seconds_bucket", route="/api/v1/search", le="+Inf") == 3
    assert _sample(text, "widget_caller_requests_total", caller="mon-site.fr") == 3
    # The broken source fails each computed search; cached answers are not partial, so not cached.
    assert _sample(text, "widget_source_failures_total", source="recruiters", code="source_error") == 3
    assert _sample(text, "widget_search_cache_misses_total") == 3
    assert "widget_search_cache_hit_ratio" in text
    version = observed.get("/healthz").json()["dataset"]["version"]
    assert _sample(text, "widget_dataset_info", version=version) == 1
    assert _sample(text, "widget_dataset_records", kind="formation") > 0


def test_cache_hits_are_counted(client):
    params = {"caller": "metrics-test", "romes": "D1102", "postal_code": "69003", "limit": "1"}
    client.get("/api/v1/search", params=params)
    before = _sample(client.get("/metrics").text, "widget_search_cache_hits_total")
    client.get("/api/v1/search", params=params)
    assert _sample(client.get("/metrics").text, "widget_search_cache_hits_total") == before + 1


def test_caller_labels_are_bounded():
    metrics = Metrics(max_callers=2)
    labels = [metrics.caller_label(c) for c in ("a.fr", "b.fr", "c.fr", "a.fr", "jean@laposte.net")]
    assert labels == ["a.fr", "b.fr", "other", "a.fr", "other"]
    origin = parse_origin("https://a.fr")
    assert origin is not None
    strict = Metrics(partners=PartnerRegistry({"a.fr": Partner("a.fr", (origin,))}, "strict"))
    assert [strict.caller_label(c) for c in ("a.fr", "z.fr")] == ["a.fr", "other"]


def test_access_log_lines_are_json_without_personal_data(observed, caplog):
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        observed.get("/api/v1/metiers", params={"q": "aide soignante chez Mme Durand", "limit": "2"},
                     headers={"X-Forwarded-For": "203.0.113.77"})
        observed.get("/api/v1/search", params={"caller": "jean.dupont@laposte.net", "romes": "D1102",
                                               "job_name": "Boulanger de Jean"},
                     headers={"X-Forwarded-For": "2001:db8:abcd:12:1:2:3:4"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == LOGGER_NAME]
    assert len(lines) == 2
    lookup, search = lines
    assert lookup["method"] == "GET" and lookup["route"] == "/api/v1/metiers" and lookup["status"] == 200
    assert lookup["params"] == ["limit", "q"] and lookup["client"] == "203.0.113.0/24"
    assert isinstance(lookup["duration_ms"], float)
    assert search["client"] == "2001:db8:abcd::/48"
    assert search["caller"] == "*@laposte.net"
    assert search["params"] == ["caller", "job_name", "romes"]
    raw = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("Durand", "aide soignante", "Jean", "jean.dupont", "203.0.113.77", "1:2:3:4"):
        assert secret not in raw


def test_log_helpers():
    assert client_network("192.0.2.200") == "192.0.2.0/24"
    assert client_network("::ffff:192.0.2.200") == "192.0.2.0/24"
    assert client_network("testclient") is None
    assert public_caller("mon-site.fr") == "mon-site.fr"
    assert public_caller("<script>") == "(invalid)"
    assert param_names(b"q=x&q=y&utm_source=z&%C3%A9t%C3%A9=1") == ["(other)", "q", "utm_source"]
