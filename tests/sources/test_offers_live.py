"""France Travail's live offers inside /api/v1/search, against the fake France Travail on 127.0.0.1."""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from conftest import make_client
from datasets import build, formation, offer, recruiter
from fakes.france_travail_server import HANG, Behaviour, FakeFranceTravail, sample_body
from widget_server.app import create_app
from widget_server.settings import Settings
from widget_server.sources.france_travail import FranceTravailSettings

METZ = (49.1193, 6.1757)
FIRST_FT_ID = sample_body()["resultats"][0]["id"]


@pytest.fixture(scope="module")
def metz_dataset(tmp_path_factory, data_dir):
    return build(
        tmp_path_factory.mktemp("ft") / "metz.sqlite", data_dir,
        formations=[formation("metz-bts", METZ, ["D1212"], level=5)],
        offers=[offer("embedded-1", METZ, ["D1212"], created_at="2026-11-01"),
                # The same France Travail offer as the live one, as an old import left it.
                offer(f"ft-{FIRST_FT_ID}", METZ, ["D1212"], created_at="2019-05-01", title="Ancienne copie")],
        recruiters=[recruiter("metz-shop", METZ, ["D1212"], score=70)],
    )


@pytest.fixture
def fake() -> Iterator[FakeFranceTravail]:
    server = FakeFranceTravail()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def app_client(dataset, fake, mode="merge", budget=1.0):
    ft = FranceTravailSettings(client_id=fake.client_id, client_secret=fake.client_secret,
                               api_url=fake.api_url, token_url=fake.token_url, mode=mode)
    settings = Settings.from_env({}, dataset_path=dataset, reload_interval=0.0, source_timeout=budget)
    return make_client(create_app(settings, france_travail=ft))


def search(client):
    r = client.get("/api/v1/search", params={"caller": "t", "romes": "D1212", "insee": "57463", "radius": 60})
    assert r.status_code == 200, r.text
    return r.json()


def test_merge_mode_adds_live_offers_and_removes_duplicates(metz_dataset, fake):
    with app_client(metz_dataset, fake) as client:
        body = search(client)
    offers = body["offers"]["results"]
    ids = [o["id"] for o in offers]
    assert len(ids) == len(set(ids))
    assert any(o["source"] == "france_travail" for o in offers)
    assert "offer:embedded-1" in ids
    live_copy = [o for o in offers if o["id"] == f"offer:ft-{FIRST_FT_ID}"]
    assert len(live_copy) == 1 and live_copy[0]["source"] == "france_travail"   # the live copy wins
    assert fake.calls("search")[0].params["natureContrat"] == "E2,FS"


def test_merge_mode_keeps_embedded_offers_when_france_travail_fails(metz_dataset, fake):
    fake.script("search", Behaviour(status=500))
    with app_client(metz_dataset, fake) as client:
        body = search(client)
    assert [o["id"] for o in body["offers"]["results"]][:1] == ["offer:embedded-1"]
    assert body["offers"]["warning"]["code"] == "france_travail_unavailable"
    assert body["formations"]["count"] == 1


def test_replace_mode_failure_is_an_error_in_the_offers_bucket_only(metz_dataset, fake):
    fake.script("search", Behaviour(status=503))
    with app_client(metz_dataset, fake, mode="replace") as client:
        body = search(client)
    assert body["offers"]["error"]["code"] == "source_error"
    assert body["formations"]["count"] == 1 and body["recruiters"]["count"] == 1


def test_replace_mode_serves_only_live_offers(metz_dataset, fake):
    with app_client(metz_dataset, fake, mode="replace") as client:
        body = search(client)
    assert body["offers"]["results"] and all(o["source"] == "france_travail" for o in body["offers"]["results"])


def test_a_hanging_france_travail_keeps_the_search_within_its_budget(metz_dataset, fake):
    fake.script("search", HANG)
    with app_client(metz_dataset, fake, mode="replace", budget=0.5) as client:
        started = time.perf_counter()
        body = search(client)
        elapsed = time.perf_counter() - started
    assert elapsed < 0.5 * 1.1 + 0.15
    assert body["offers"]["error"]["code"] == "source_timeout"
    assert body["formations"]["count"] == 1


def test_a_failing_token_endpoint_is_an_offers_error(metz_dataset, fake):
    fake.script("token", Behaviour(status=500))
    with app_client(metz_dataset, fake, mode="replace") as client:
        body = search(client)
    # A refused token is an answer, not a silence: source_error at once, never a timeout.
    assert body["offers"]["error"]["code"] == "source_error"
    assert fake.client_secret not in str(body)
