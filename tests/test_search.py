"""GET /api/v1/search through HTTP, on a hand-made dataset whose right answers are obvious."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time

import pytest

from conftest import make_client
from datasets import GRENOBLE, LYON, PARIS, VIENNE, VILLEURBANNE, build, formation, offer, recruiter
from widget_server.app import create_app, default_sources
from widget_server.settings import Settings


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory, data_dir):
    path = tmp_path_factory.mktemp("search") / "small.sqlite"
    return build(
        path, data_dir,
        formations=[
            formation("lyon-cap", LYON, ["D1102"], level=3, title="CAP boulanger Lyon"),
            formation("villeurbanne-bp", VILLEURBANNE, ["D1102"], level=4, title="BP boulanger Villeurbanne"),
            formation("vienne-cap", VIENNE, ["D1102"], level=3),
            formation("grenoble-cap", GRENOBLE, ["D1102"], level=3),
            formation("paris-patisserie", PARIS, ["D1104"], level=3),
        ],
        offers=[
            offer("old", VILLEURBANNE, ["D1102"], created_at="2026-10-01"),
            offer("new", VIENNE, ["D1102"], created_at="2026-11-20"),
            offer("chef", LYON, ["D1108"], created_at="2026-11-10"),   # v4 child of D1102
        ],
        recruiters=[
            recruiter("near", LYON, ["D1102"], score=40),
            recruiter("far", GRENOBLE, ["D1102"], score=90),
        ],
    )


@pytest.fixture(scope="module")
def search_client(small_dataset):
    app = create_app(Settings.from_env({}, dataset_path=small_dataset, reload_interval=0.0))
    with make_client(app) as client:
        yield client


def search(client, **params):
    params.setdefault("caller", "test-suite")
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(bucket):
    return [r["id"].split(":", 1)[1] for r in bucket["results"]]


def test_nearest_first_within_the_radius(search_client):
    body = search(search_client, romes="D1102", latitude=LYON[0], longitude=LYON[1], radius=30)
    assert ids(body["formations"]) == ["lyon-cap", "villeurbanne-bp", "vienne-cap"]
    distances = [r["place"]["distance_km"] for r in body["formations"]["results"]]
    assert distances == sorted(distances) and distances[0] < 1 and 20 < distances[-1] < 30
    assert body["formations"]["count"] == 3 and body["formations"]["next_page"] is None
    assert ids(body["recruiters"]) == ["near"]
    assert body["meta"]["radius_km"] == 30 and body["meta"]["fallbacks"] == []


def test_a_v3_code_matches_its_v4_children_and_back(search_client):
    body = search(search_client, romes="D1102", insee="69123", types="offers")
    assert "chef" in ids(body["offers"])
    body = search(search_client, romes="D1108", insee="69123", types="formations")
    assert "lyon-cap" in ids(body["formations"])   # tagged with the parent D1102
    body = search(search_client, romes="D1104", insee="69123", types="formations", radius=200)
    assert ids(body["formations"]) == [] or "lyon-cap" not in ids(body["formations"])


def test_the_query_is_echoed_normalised(search_client):
    body = search(search_client, romes="d1102", postal_code="69003", radius=10)
    q = body["query"]
    assert q["romes"] == [{"code": "D1102", "label": "Boulanger / Boulangère"}]
    assert q["place"]["commune"]["name"] == "Lyon" and q["place"]["given_by"] == "postal_code"
    assert q["types"] == ["formations", "offers", "recruiters"]


def test_envelope_has_everything_a_result_needs(search_client):
    body = search(search_client, romes="D1102", insee="69123")
    item = body["recruiters"]["results"][0]
    assert item["type"] == "recruiter" and item["demo"] is True
    assert item["company"]["naf_label"] and item["company"]["size"] == "10 à 19 salariés"
    assert item["recruiter"]["hiring_band"] == "moyen"
    offer_item = body["offers"]["results"][0]
    assert offer_item["offer"]["contract_label"] == "Apprentissage"
    assert body["meta"]["demo"] is True


def test_sort_by_date_puts_the_newest_offer_first(search_client):
    body = search(search_client, romes="D1102", insee="69123", types="offers", sort="date")
    assert ids(body["offers"]) == ["new", "chef", "old"]


def test_sort_by_relevance_weighs_the_hiring_score(search_client):
    # relevance = 0.5 (1 - distance / radius) + 0.5 hiring score / 100, worked out by hand:
    # "near" (~1 km, score 40) and "far" (Grenoble, ~95 km, score 90).
    # radius 200: near 0.5 x 0.995 + 0.20 = 0.70 < far 0.5 x 0.525 + 0.45 = 0.71: the score wins;
    # radius 100: near 0.5 x 0.99 + 0.20 = 0.69 > far 0.5 x 0.05 + 0.45 = 0.475: the distance wins.
    wide = search(search_client, romes="D1102", insee="69123", types="recruiters", sort="relevance", radius=200)
    assert ids(wide["recruiters"]) == ["far", "near"]
    narrower = search(search_client, romes="D1102", insee="69123", types="recruiters", sort="relevance", radius=100)
    assert ids(narrower["recruiters"]) == ["near", "far"]
    by_distance = search(search_client, romes="D1102", insee="69123", types="recruiters", radius=200)
    assert ids(by_distance["recruiters"]) == ["near", "far"]     # the default sort is not relevance


def test_paging(search_client):
    first = search(search_client, romes="D1102", insee="69123", types="formations", limit=2)
    assert ids(first["formations"]) == ["lyon-cap", "villeurbanne-bp"] and first["formations"]["next_page"] == 2
    second = search(search_client, romes="D1102", insee="69123", types="formations", limit=2, page=2)
    assert ids(second["formations"]) == ["vienne-cap"] and second["formations"]["next_page"] is None
    # A page ending exactly on the last result has no next page.
    whole = search(search_client, romes="D1102", insee="69123", types="formations", limit=3)
    assert whole["formations"]["count"] == 3 and whole["formations"]["next_page"] is None


def test_diploma_filters_formations(search_client):
    body = search(search_client, romes="D1102", insee="69123", types="formations", diploma=4)
    assert ids(body["formations"]) == ["villeurbanne-bp"]
    lba_style = search(search_client, romes="D1102", insee="69123", types="formations", diploma="4 (BAC...)")
    assert ids(lba_style["formations"]) == ["villeurbanne-bp"]


def test_formations_fall_back_to_the_nearest_in_france(search_client):
    body = search(search_client, romes="D1104", insee="69123", radius=10, types="formations")
    # Nothing within 10 km is counted as near: the far training is listed apart, with its distance.
    assert ids(body["formations"]) == [] and body["formations"]["count"] == 0
    assert [r["id"] for r in body["formations"]["nearest"]] == ["formation:paris-patisserie"]
    assert body["formations"]["nearest"][0]["place"]["distance_km"] > 350
    assert body["meta"]["fallbacks"] == ["formations_nearest_france"]


def test_a_wider_radius_never_shows_fewer_trainings(search_client):
    counts = [search(search_client, romes="D1102", insee="69123", radius=r, types="formations")["formations"]["count"]
              for r in (10, 30, 60, 100, 200)]
    assert counts == sorted(counts) and counts[-1] > counts[0]


def test_an_empty_answer_suggests_a_radius(search_client):
    body = search(search_client, romes="D1102", latitude=45.3, longitude=5.6, radius=10, types="offers,recruiters")
    assert body["offers"]["count"] == 0 and body["recruiters"]["count"] == 0
    assert body["meta"]["suggested_radius_km"] == 60


ANNECY = (45.8992, 6.1294)      # ~80 km from Grenoble's recruiter, ~105 km from Lyon's


@pytest.mark.parametrize("params,expected", [
    # Grenoble's recruiter is 15 km away: the first wider radius; the offers are further.
    ({"latitude": 45.3, "longitude": 5.6, "radius": 10, "types": "offers,recruiters"},
     {"offers": 100, "recruiters": 60}),
    # Nothing within 60 km of Annecy: 100, not the first radius tried.
    ({"latitude": ANNECY[0], "longitude": ANNECY[1], "radius": 10, "types": "recruiters"}, {"recruiters": 100}),
    # A search already at one of the suggested radii: the next ones are looked at.
    ({"latitude": ANNECY[0], "longitude": ANNECY[1], "radius": 60, "types": "recruiters"}, {"recruiters": 100}),
    # The diploma asked for is kept: Grenoble's CAP is there, the nearest BP is Villeurbanne's (90 km).
    ({"latitude": GRENOBLE[0], "longitude": GRENOBLE[1], "radius": 10, "types": "formations", "diploma": 4},
     {"formations": 100}),
    # Nothing within 200 km (Paris is 390 km from Lyon): no suggestion.
    ({"romes": "D1104", "insee": "69123", "radius": 10, "types": "formations"}, {"formations": None}),
])
def test_a_suggested_radius_keeps_its_word(search_client, params, expected):
    params = {"romes": "D1102", **params}
    body = search(search_client, **params)
    for bucket, radius in expected.items():
        assert body[bucket]["count"] == 0 and body[bucket]["suggested_radius_km"] == radius, bucket
        # "Élargir à N km": N finds something, and no radius offered before it does.
        for tried in (60, 100, 150, 200):
            if params["radius"] < tried:
                wider = search(search_client, **{**params, "radius": tried})[bucket]["count"]
                assert (wider > 0) is (radius is not None and tried >= radius), (bucket, tried)
    assert body["meta"]["suggested_radius_km"] == min((r for r in expected.values() if r), default=None)


def test_no_suggestion_for_a_section_with_results(search_client):
    body = search(search_client, romes="D1102", latitude=GRENOBLE[0], longitude=GRENOBLE[1], radius=10,
                  types="formations,offers")
    assert body["formations"]["count"] == 1 and body["formations"]["suggested_radius_km"] is None
    assert body["offers"]["count"] == 0 and body["offers"]["suggested_radius_km"] == 100
    assert body["meta"]["suggested_radius_km"] is None       # the answer as a whole is not empty


def test_a_point_far_from_any_commune_names_none(search_client):
    body = search(search_client, romes="D1102", latitude=44.0, longitude=-12.0, types="formations")
    assert body["query"]["place"] == {"given_by": "coordinates", "latitude": 44.0, "longitude": -12.0,
                                      "commune": None}


def test_france_wide_without_a_place(search_client):
    body = search(search_client, romes="D1102", types="offers,recruiters")
    assert body["query"]["place"] is None and body["meta"]["radius_km"] is None
    assert ids(body["offers"]) == ["new", "chef", "old"]          # newest first
    assert ids(body["recruiters"]) == ["far", "near"]             # best hiring score first
    assert body["offers"]["results"][0]["place"]["distance_km"] is None


def test_la_bonne_alternance_aliases(search_client):
    ours = search(search_client, romes="D1102", latitude=LYON[0], longitude=LYON[1], types="formations,offers")
    theirs = search(search_client, romes="D1102", lat=LYON[0], lon=LYON[1], sources="formations,offres")
    assert ours["formations"] == theirs["formations"] and ours["offers"] == theirs["offers"]
    assert "recruiters" not in theirs
    by_zip = search(search_client, romes="D1102", zipcode="69003", sources="lba")
    assert list(k for k in by_zip if k in ("formations", "offers", "recruiters")) == ["recruiters"]


def test_combinations_pair_nearby_places(search_client):
    body = search(search_client, romes="D1102", insee="69123")
    pairs = body["combinations"]
    assert pairs and len(pairs) <= 10
    assert pairs[0]["employer"]["type"] == "offer"       # offers before predictions
    kinds = [p["employer"]["type"] for p in pairs]
    assert kinds == sorted(kinds, key=lambda k: k != "offer")
    per_formation = {}
    for p in pairs:
        per_formation[p["formation"]["id"]] = per_formation.get(p["formation"]["id"], 0) + 1
    assert max(per_formation.values()) <= 3


WEST_OF_LYON = (LYON[0], LYON[1] - 0.1160)      # 9 km west of Bellecour
EAST_OF_LYON = (LYON[0], LYON[1] + 0.1160)      # 9 km east: 18 km apart


@pytest.fixture(scope="module")
def apart_client(tmp_path_factory, data_dir):
    path = build(tmp_path_factory.mktemp("apart") / "apart.sqlite", data_dir,
                 formations=[formation("west-cap", WEST_OF_LYON, ["D1102"]),
                             *(formation(f"vienne-{n}", VIENNE, ["D1102"]) for n in range(4)),
                             formation("paris-demo", PARIS, ["D1104"], demo=True)],
                 recruiters=[recruiter("east-bakery", EAST_OF_LYON, ["D1102"], demo=False),
                             recruiter("grenoble-demo", GRENOBLE, ["D1102"], demo=True)])
    with make_client(create_app(Settings.from_env({}, dataset_path=path, reload_interval=0.0))) as client:
        yield client


AT_LYON = {"romes": "D1102", "latitude": LYON[0], "longitude": LYON[1]}


def test_a_pair_is_within_the_radius_of_each_other_and_measured_from_the_learner(apart_client):
    # Each is 9 km from the learner, 18 km from the other: a pair within 20 km, not within 10.
    assert search(apart_client, **AT_LYON, radius=10)["combinations"] == []
    pairs = search(apart_client, **AT_LYON, radius=20)["combinations"]
    assert [(p["formation"]["id"], p["employer"]["id"]) for p in pairs] == [
        ("formation:west-cap", "recruiter:east-bakery")]
    assert pairs[0]["distances"] == {"learner_to_formation_km": 9.0, "learner_to_employer_km": 9.0,
                                     "formation_to_employer_km": 18.0}


def test_france_wide_pairs_stay_within_30_km_whatever_the_radius(apart_client):
    # Without a place the radius means nothing: pairs keep the France-wide limit (30 km apart),
    # so Grenoble's recruiter (75 km from the nearest training) is paired with none.
    pairs = search(apart_client, romes="D1102", radius=100)["combinations"]
    assert pairs and all(p["distances"]["formation_to_employer_km"] <= 30 for p in pairs)
    assert "recruiter:grenoble-demo" not in {p["employer"]["id"] for p in pairs}


def test_demo_is_said_when_any_item_shown_is_one(apart_client):
    assert search(apart_client, **AT_LYON, radius=20, types="recruiters")["meta"]["demo"] is False
    # A demo recruiter among the results (Grenoble, from 100 km).
    assert search(apart_client, **AT_LYON, radius=100, types="recruiters")["meta"]["demo"] is True
    # A demo training among the nearest ones beyond the radius only.
    far = search(apart_client, **{**AT_LYON, "romes": "D1104"}, radius=20, types="formations")
    assert far["formations"]["results"] == [] and far["formations"]["nearest"][0]["demo"] is True
    assert far["meta"]["demo"] is True
    # A demo company only in a pair (pairs draw on candidates beyond the page shown).
    paired = search(apart_client, **AT_LYON, radius=100, limit=1, types="formations,recruiters")
    assert [paired[b]["results"][0]["demo"] for b in ("formations", "recruiters")] == [False, False]
    assert paired["formations"]["nearest"] == []
    assert any(p["employer"]["demo"] for p in paired["combinations"]) and paired["meta"]["demo"] is True


class EmptyLocalSource:
    """A local source without suggest_radius: its empty answer gets no suggestion, and no error."""

    bucket = "offers"

    def search_sync(self, dataset, query):
        from widget_server.sources.base import SourceResult

        return SourceResult(items=[], count=0)


def test_a_local_source_without_suggestions(small_dataset):
    settings = Settings.from_env({}, dataset_path=small_dataset, reload_interval=0.0)
    with make_client(create_app(settings, default_sources() | {"offers": EmptyLocalSource()})) as client:
        body = search(client, romes="D1102", insee="69123")
    assert body["offers"]["count"] == 0 and body["offers"]["suggested_radius_km"] is None


@pytest.mark.parametrize("params,named", [
    ({}, ["caller", "romes"]),
    ({"caller": "x", "romes": "D1102", "insee": "99999"}, ["insee"]),
    ({"caller": "x", "romes": "D1102", "postal_code": "00000"}, ["postal_code"]),
    ({"caller": "x", "romes": "D1102", "insee": "69123", "postal_code": "69003"}, ["postal_code"]),
    ({"caller": "x", "romes": "D1102", "latitude": "45"}, ["longitude"]),
    ({"caller": "x", "romes": "A0000"}, ["romes"]),
    ({"caller": "x", "romes": " , "}, ["romes"]),
    ({"caller": "x", "romes": ",".join(f"D11{i:02d}" for i in range(21))}, ["romes"]),
    ({"caller": "x" * 101, "romes": "D1102"}, ["caller"]),
    ({"caller": "x", "romes": "D1102", "sources": "foo"}, ["sources"]),
    ({"caller": "x", "romes": "D1102", "types": "offres"}, ["types"]),
    ({"caller": "x", "romes": "D1102", "rayon": "10"}, ["rayon"]),
    # Every bounded parameter, just beyond each of its bounds (the bounds themselves: below).
    *[({"caller": "x", "romes": "D1102", "insee": "69123", name: value}, [name]) for name, value in [
        ("radius", "0"), ("radius", "201"), ("radius", "5000"), ("radius", "-30"), ("radius", "30.5"),
        ("limit", "0"), ("limit", "101"), ("page", "0"), ("page", "51"),
        ("sort", "nearest"), ("sort", "Distance"), ("diploma", "2"), ("diploma", "8"), ("diploma", "35"),
        ("types", "formations,jobs"), ("types", ","),
    ]],
    ({"caller": "x", "romes": "D1102", "latitude": "90.1", "longitude": "4.8"}, ["latitude"]),
    ({"caller": "x", "romes": "D1102", "latitude": "45", "longitude": "-180.1"}, ["longitude"]),
])
def test_parameter_errors(search_client, params, named):
    response = search_client.get("/api/v1/search", params=params)
    assert response.status_code == 400
    assert [d["param"] for d in response.json()["error"]["details"]] == named


@pytest.mark.parametrize("name,values", [
    ("radius", ["1", "200"]), ("limit", ["1", "100"]), ("page", ["1", "50"]), ("diploma", ["3", "7"]),
    ("sort", ["distance", "date", "relevance", "employment"]), ("types", ["formations", "offers,recruiters"]),
])
def test_every_bound_itself_is_accepted(search_client, name, values):
    for value in values:
        body = search(search_client, romes="D1102", insee="69123", **{name: value})
        echoed = body["query"]["radius_km" if name == "radius" else name]
        assert str(echoed) == value or echoed == value.split(","), (name, value, echoed)


class FailingSource:
    bucket = "offers"

    async def search(self, dataset, query):
        raise RuntimeError("upstream exploded")


class FailingLocalSource:
    """A source answering from the embedded dataset (search_sync) that breaks."""

    bucket = "offers"

    def search_sync(self, dataset, query):
        raise RuntimeError("disk exploded")


def test_a_failing_local_source_leaves_the_others_answering(small_dataset, caplog):
    sources = default_sources() | {"offers": FailingLocalSource()}
    settings = Settings.from_env({}, dataset_path=small_dataset, reload_interval=0.0)
    with make_client(create_app(settings, sources)) as client, caplog.at_level(logging.ERROR):
        body = search(client, romes="D1102", insee="69123")
    assert body["offers"] == {"error": {"code": "source_error", "message": (
        "Cette source est momentanément indisponible ; les autres résultats restent valables.")}}
    assert body["formations"]["count"] == 3 and body["recruiters"]["count"] == 1
    assert body["market"] is not None                  # the rest of the local work still ran
    assert "disk exploded" not in str(body)
    failed = [r for r in caplog.records if r.name == "widget_server.search"]
    assert [r.getMessage() for r in failed] == ["source offers failed"]
    assert failed[0].exc_info[1].args == ("disk exploded",)     # the traceback is logged


class RemoteOnly:
    """A store source seen as a remote one (no search_sync): the answer is assembled without any
    local work, as with France Travail answering every bucket."""

    def __init__(self, inner):
        self.bucket, self._inner = inner.bucket, inner

    async def search(self, dataset, query):
        return await self._inner.search(dataset, query)


def test_remote_sources_alone_still_get_the_local_market(small_dataset, search_client):
    remote = {b: RemoteOnly(s) for b, s in default_sources().items()}
    settings = Settings.from_env({}, dataset_path=small_dataset, reload_interval=0.0)
    with make_client(create_app(settings, remote)) as client:
        placed = search(client, romes="D1102", insee="69123")
        everywhere = search(client, romes="D1102")
    assert placed["formations"]["count"] == 3
    # The market block of a place, as the local sources' answer has it (this dataset has no
    # market figures: the block names the métier and says so).
    local = search(search_client, romes="D1102", insee="69123")["market"]
    assert placed["market"] == local == {"romes": [{"code": "D1102", "label": "Boulanger / Boulangère"}],
                                         "offers": None, "tension": None}
    assert everywhere["market"] is None and everywhere["formations"]["count"] == 4


class DegradedSource:
    """Answers, with a part missing (as France Travail does when its live offers time out)."""

    bucket = "offers"

    async def search(self, dataset, query):
        from widget_server.sources.base import SourceResult

        await asyncio.sleep(0.2)
        return SourceResult(items=[], count=0, warning={"code": "live_offers_unavailable",
                                                        "message": "Les offres en direct manquent."})


def test_a_degraded_source_says_so_and_the_timing_is_measured(small_dataset):
    settings = Settings.from_env({}, dataset_path=small_dataset, reload_interval=0.0)
    with make_client(create_app(settings, default_sources() | {"offers": DegradedSource()})) as client:
        started = time.perf_counter()
        body = search(client, romes="D1102", insee="69123")
        wall_ms = (time.perf_counter() - started) * 1000
    assert body["offers"]["warning"] == {"code": "live_offers_unavailable", "message": "Les offres en direct manquent."}
    assert "warning" not in body["formations"]
    took = body["meta"]["took_ms"]
    # The search's own time, in milliseconds to one decimal: at least the slow source's 200 ms.
    assert isinstance(took, float) and took == round(took, 1)
    assert 200 <= took <= wall_ms


class HangingSource:
    bucket = "recruiters"

    async def search(self, dataset, query):
        await asyncio.sleep(30)


def test_a_failing_or_hanging_source_leaves_the_others_answering(small_dataset, caplog):
    sources = default_sources() | {"offers": FailingSource(), "recruiters": HangingSource()}
    settings = Settings.from_env({}, dataset_path=small_dataset, reload_interval=0.0, source_timeout=0.3)
    with make_client(create_app(settings, sources)) as client, caplog.at_level(logging.WARNING):
        started = time.perf_counter()
        body = search(client, romes="D1102", insee="69123")
        elapsed = time.perf_counter() - started
    assert elapsed < 0.3 * 1.1 + 0.2
    assert body["formations"]["count"] == 3
    assert body["offers"] == {"error": {"code": "source_error", "message": body["offers"]["error"]["message"]}}
    assert body["recruiters"] == {"error": {"code": "source_timeout", "message": (
        "Cette source n'a pas répondu à temps ; les autres résultats restent valables.")}}
    assert "upstream exploded" not in str(body)
    logged = sorted(r.getMessage() for r in caplog.records if r.name == "widget_server.search")
    assert logged == ["source offers failed", "source recruiters timed out after 0.30 s"]


class BlockedLocalSource:
    """A local source stuck in its worker thread (a locked database, a slow disk) until released."""

    bucket = "offers"

    def __init__(self):
        self.release = threading.Event()

    def search_sync(self, dataset, query):
        self.release.wait(10)      # then returns nothing: an abandoned thread's answer is never read


def test_stuck_local_sources_answer_as_timed_out_within_the_budget(small_dataset, caplog):
    stuck = BlockedLocalSource()
    settings = Settings.from_env({}, dataset_path=small_dataset, reload_interval=0.0, source_timeout=0.3)
    try:
        with make_client(create_app(settings, default_sources() | {"offers": stuck})) as client, \
                caplog.at_level(logging.WARNING):
            search(client, romes="D1102", insee="69123", radius=34)     # warm-up: first-request costs
            started = time.perf_counter()
            body = search(client, romes="D1102", insee="69123")
            elapsed = time.perf_counter() - started
    finally:
        stuck.release.set()
    # The thread is abandoned, not waited for (it would hold the answer for 10 s).
    assert elapsed < 0.3 * 1.1 + 0.5
    # The local sources share one worker thread: all of them ran out of time together.
    for bucket in ("formations", "offers", "recruiters"):
        assert body[bucket] == {"error": {"code": "source_timeout", "message": (
            "Cette source n'a pas répondu à temps ; les autres résultats restent valables.")}}, bucket
    assert body["market"] is None and body["meta"]["suggested_radius_km"] is None
    logged = [r.getMessage() for r in caplog.records if r.name == "widget_server.search"]
    assert "local sources formations,offers,recruiters timed out after 0.30 s" in logged


class HangingOffers(HangingSource):
    bucket = "offers"


def test_two_hanging_sources_share_one_budget(small_dataset):
    # Awaited together, two hanging sources cost one budget (1 s); one after the other, two.
    sources = default_sources() | {"offers": HangingOffers(), "recruiters": HangingSource()}
    settings = Settings.from_env({}, dataset_path=small_dataset, reload_interval=0.0, source_timeout=1.0)
    with make_client(create_app(settings, sources)) as client:
        search(client, romes="D1102", insee="69123", radius=33)          # warm-up: first-request costs
        started = time.perf_counter()
        body = search(client, romes="D1102", insee="69123")
        elapsed = time.perf_counter() - started
    assert body["offers"]["error"]["code"] == body["recruiters"]["error"]["code"] == "source_timeout"
    assert 1.0 <= elapsed < 1.6          # sequential awaiting takes 2 s or more


class Rendezvous:
    """Sources that answer only once all of them are running: awaited one after another, the first
    waits for the others until its budget runs out; awaited together, all answer at once."""

    def __init__(self, buckets, inner):
        self.expected, self.arrived, self.everyone = len(buckets), 0, None
        self.sources = {b: self._source(b, inner[b]) for b in buckets}

    def _source(self, bucket, inner):
        meeting = self

        class Meeting:
            async def search(self, dataset, query):
                meeting.everyone = meeting.everyone or asyncio.Event()
                meeting.arrived += 1
                if meeting.arrived == meeting.expected:
                    meeting.everyone.set()
                await meeting.everyone.wait()
                return await inner.search(dataset, query)

        Meeting.bucket = bucket
        return Meeting()


def test_sources_run_concurrently_not_one_after_another(small_dataset):
    meeting = Rendezvous(("formations", "offers", "recruiters"), default_sources())
    settings = Settings.from_env({}, dataset_path=small_dataset, reload_interval=0.0, source_timeout=2.0)
    with make_client(create_app(settings, default_sources() | meeting.sources)) as client:
        body = search(client, romes="D1102", insee="69123")
    assert [b for b in ("formations", "offers", "recruiters") if "error" in body[b]] == []
    assert body["formations"]["count"] == 3


def test_identical_queries_are_cached_with_etag_and_304(search_client):
    params = {"caller": "cache-test", "romes": "D1102", "insee": "69123", "radius": 31}
    first = search_client.get("/api/v1/search", params=params)
    second = search_client.get("/api/v1/search", params={**params, "caller": "other-caller"})
    assert first.json()["meta"].get("cached") is None and second.json()["meta"]["cached"] is True
    assert second.json()["query"]["caller"] == "other-caller"
    assert first.headers["etag"] == second.headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', first.headers["etag"])
    assert first.headers["cache-control"] == "public, max-age=60"
    # Compressed or not, the same answer: caches keep one copy per encoding.
    assert "Accept-Encoding" in [v.strip() for v in first.headers["vary"].split(",")]
    revalidated = search_client.get("/api/v1/search", params=params, headers={"If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""
    # A 304 says again what a cache must keep (RFC 9110, 15.4.5): the tag and how long.
    assert revalidated.headers["etag"] == first.headers["etag"]
    assert revalidated.headers["cache-control"] == "public, max-age=60"
    assert first.headers["content-type"] == "application/json"
    among_others = search_client.get("/api/v1/search", params=params,
                                     headers={"If-None-Match": f'W/"0123", {first.headers["etag"]}'})
    assert among_others.status_code == 304
    for listed in (f'{first.headers["etag"]}, W/"0123"', f'{first.headers["etag"]},W/"0123"'):
        assert search_client.get("/api/v1/search", params=params,
                                 headers={"If-None-Match": listed}).status_code == 304, listed
    # A stale tag (another dataset, another answer) gets the full answer, never a 304.
    for stale in ('W/"00000000000000000000000000000000"', first.headers["etag"].replace("W/", ""), "*x", '""'):
        fresh = search_client.get("/api/v1/search", params=params, headers={"If-None-Match": stale})
        assert fresh.status_code == 200 and fresh.json()["formations"]["count"] > 0, stale
        assert fresh.headers["etag"] == first.headers["etag"]
    different = search_client.get("/api/v1/search", params={**params, "radius": 32})
    assert different.headers["etag"] != first.headers["etag"]


def test_caller_counters(search_client):
    body = search(search_client, caller="counted", romes="D1102", insee="69123")
    search_client.get("/api/v1/search", params={"caller": "counted", "romes": "bad"})
    stats = search_client.app.state.caller_stats.snapshot()["counted"]
    shown = sum(len(body[b]["results"]) for b in ("formations", "offers", "recruiters"))
    assert stats["requests"] == 2 and stats["errors"] == 1 and stats["results"] == shown > 0
    # A caller name that is itself invalid is not counted (it would let anyone add labels).
    search_client.get("/api/v1/search", params={"caller": "x" * 101, "romes": "D1102"})
    assert "x" * 101 not in search_client.app.state.caller_stats.snapshot()


def test_an_answer_with_a_failed_source_is_not_cached_and_counts_as_an_error(small_dataset):
    sources = default_sources() | {"offers": FailingSource()}
    settings = Settings.from_env({}, dataset_path=small_dataset, reload_interval=0.0)
    with make_client(create_app(settings, sources)) as client:
        r = client.get("/api/v1/search", params={"caller": "unlucky", "romes": "D1102", "insee": "69123"})
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        stats = client.app.state.caller_stats.snapshot()["unlucky"]
    assert stats["requests"] == 1 and stats["errors"] == 1


def test_openapi_and_docs_are_served(search_client):
    spec = search_client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and "/api/v1/search" in spec["paths"]
    page = search_client.get("/api/docs")
    assert page.status_code == 200 and "/api/v1/search" in page.text
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[0].replace("http-equiv", "")
