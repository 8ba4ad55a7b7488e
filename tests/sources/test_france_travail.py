"""France Travail live offers against a fake France Travail on 127.0.0.1 (never the internet).

Plain test functions running `asyncio.run(...)`: each async scenario creates,
uses and closes its own source on its own event loop.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import time
from typing import Any, Awaitable, Callable, Iterator

import pytest
from fakes.france_travail_server import HANG, Behaviour, FakeFranceTravail, sample_body

from widget_server.geo import haversine_km
from widget_server.settings import PROJECT_ROOT, SettingError
from widget_server.sources.circuit_breaker import BreakerOpen, CircuitBreaker
from widget_server.sources.france_travail import (
    CircuitOpen, FranceTravailSettings, FranceTravailSource, OffersPage, UpstreamAuthError,
    UpstreamBadResponse, UpstreamError, UpstreamTimeout, UpstreamUnavailable, merge_offers,
)
from widget_server.sources.france_travail_mapping import (
    NIVEAU_FORMATION, MalformedOffer, check_offers, map_offer, map_offers,
)

LABELS = {"D1212": "Vente en décoration et équipement du foyer"}
METZ = (49.1193, 6.1757)
SLACK = 0.35        # scheduling slack allowed over a time budget, in seconds


@pytest.fixture
def fake() -> Iterator[FakeFranceTravail]:
    server = FakeFranceTravail()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def settings_for(fake: FakeFranceTravail, **overrides: Any) -> FranceTravailSettings:
    values: dict[str, Any] = dict(client_id=fake.client_id, client_secret=fake.client_secret,
                                  api_url=fake.api_url, token_url=fake.token_url)
    values.update(overrides)
    return FranceTravailSettings(**values)


def run(fake: FakeFranceTravail, scenario: Callable[[FranceTravailSource], Awaitable[Any]],
        **overrides: Any) -> Any:
    async def main() -> Any:
        source = FranceTravailSource(settings_for(fake, **overrides), LABELS)
        try:
            return await scenario(source)
        finally:
            await source.aclose()
    return asyncio.run(main())


async def search(source: FranceTravailSource, romes: list[str] | None = None, *, budget_s: float = 3.0,
                 start: int = 0, count: int = 10, insee: str | None = "57463", **kw: Any) -> OffersPage:
    args: dict[str, Any] = dict(latitude=METZ[0], longitude=METZ[1], insee=insee, radius_km=30,
                                diploma=None, start=start, count=count, budget_s=budget_s)
    args.update(kw)
    return await source.search(romes or ["D1212"], **args)


async def failing(coro: Awaitable[Any], error: type[Exception]) -> tuple[Exception, float]:
    began = time.monotonic()
    with pytest.raises(error) as caught:
        await coro
    return caught.value, time.monotonic() - began


# -- settings ------------------------------------------------------------------------


def test_settings_from_env_defaults_and_validation() -> None:
    default = FranceTravailSettings.from_env({})
    assert not default.enabled and default.mode == "merge" and default.range_size == 150
    s = FranceTravailSettings.from_env({"FT_CLIENT_ID": "id", "FT_CLIENT_SECRET": "very-secret",
                                        "FT_MODE": "replace", "FT_READ_TIMEOUT": "2.5",
                                        "FT_BREAKER_THRESHOLD": "3"})
    assert s.enabled and s.mode == "replace" and s.read_timeout == 2.5 and s.breaker_threshold == 3
    assert "very-secret" not in repr(s)
    assert not FranceTravailSettings.from_env({"FT_CLIENT_ID": "id"}).enabled
    for bad in ({"FT_MODE": "both"}, {"FT_RANGE_SIZE": "151"}, {"FT_READ_TIMEOUT": "x"},
                {"FT_API_URL": "ftp://x"}, {"FT_BREAKER_THRESHOLD": "0"}):
        with pytest.raises(SettingError):
            FranceTravailSettings.from_env(bad)
    documented = FranceTravailSettings.documented()
    assert {env for env, _, _ in documented} >= {
        "FT_CLIENT_ID", "FT_CLIENT_SECRET", "FT_API_URL", "FT_TOKEN_URL", "FT_SCOPE", "FT_CONNECT_TIMEOUT",
        "FT_READ_TIMEOUT", "FT_MODE", "FT_BREAKER_THRESHOLD", "FT_BREAKER_COOLDOWN", "FT_CACHE_TTL"}
    assert all(help_text for _, _, help_text in documented)


def test_niveau_formation_codes_match_the_diploma_table() -> None:
    with open(PROJECT_ROOT / "data" / "diplomes" / "niveaux_diplome.csv", encoding="utf-8") as f:
        table = {int(r["niveau_cnc"]): r["france_travail_offres_niveau_formation"] for r in csv.DictReader(f)}
    assert NIVEAU_FORMATION == table


# -- mapping -------------------------------------------------------------------------


def test_mapping_of_every_field_against_the_real_sample() -> None:
    offers = sample_body()["resultats"]
    item = map_offer(offers[0], LABELS, centre=METZ)
    distance = round(haversine_km(*METZ, 49.11972222, 6.176944443), 1)
    assert distance == pytest.approx(0.1, abs=0.1)
    assert item == {
        "type": "offer", "id": "offer:ft-082SGKK", "title": "conseiller de vente (H/F)",
        "place": {"distance_km": distance, "address": "57 - METZ TECHNOPOLE", "city": "METZ TECHNOPOLE",
                  "postal_code": "57000", "insee": "57463", "latitude": 49.11972222, "longitude": 6.176944443,
                  "precision": None},
        "company": {"name": "ISEAH FORMATION", "siret": "00000000000007", "naf_code": None,
                    "naf_label": "Commerce de détail de quincaillerie, peintures et verres en grandes surfaces "
                                 "(400 m2 et plus)", "size": "50 à 99 salariés"},
        "romes": [{"code": "D1212", "label": "Vente en décoration et équipement du foyer"}],
        "diploma_level": None,
        "dates": {"created_at": "2019-01-23", "start_date": None, "entry_periods": None},
        "url": "https://candidat.pole-emploi.fr/offres/recherche/detail/082SGKK",
        "demo": False, "source": "france_travail",
        "offer": {"contract_nature": "FS", "contract_label": "Contrat de professionnalisation",
                  "contract_type": "CDD", "duration_months": 12,
                  "description": offers[0]["description"].strip(),
                  "appellation": "Vendeur / Vendeuse en bricolage"},
    }
    items = map_offers(offers, LABELS, centre=None)
    assert [i["id"] for i in items] == [f"offer:ft-{o['id']}" for o in offers]
    assert [i["offer"]["contract_nature"] for i in items] == ["FS"] * 7 + ["E2"]
    assert items[-1]["offer"]["contract_label"] == "Apprentissage"
    assert [i["offer"]["duration_months"] for i in items] == [12, 24, 11, 24, 24, 24, 10, 12]
    assert [i["place"]["city"] for i in items][:3] == ["METZ TECHNOPOLE", "MOULINS LES METZ", "AUGNY"]
    assert all(i["place"]["distance_km"] is None for i in items)      # no centre: France-wide
    assert items[1]["company"] == {"name": "ALTERNANCE LORRAINE", "siret": "00000000000009", "naf_code": None,
                                   "naf_label": offers[1]["secteurActiviteLibelle"], "size": "6 à 9 salariés"}
    assert all(i["dates"]["created_at"] == o["dateCreation"][:10] for i, o in zip(items, offers))


def test_mapping_edge_cases() -> None:
    base = sample_body()["resultats"][0]
    no_place = dict(base, lieuTravail={"libelle": "75 - Paris (Dept.)"})
    assert map_offer(no_place, LABELS, centre=None) is None               # not placeable on our map
    assert map_offer(dict(base, natureContrat="Contrat travail"), LABELS, centre=None) is None
    odd = dict(base, origineOffre={"urlOrigine": "javascript:alert(1)"}, romeCode="Z9999", romeLibelle="Métier Z",
               codeNAF="47.52A", typeContratLibelle="Contrat à durée déterminée - 2 An(s)",
               formations=[{"niveauLibelle": "Bac+2 ou équivalents"}, {"niveauLibelle": "Bac ou équivalent"}])
    item = map_offer(odd, LABELS, centre=None)
    assert item is not None
    assert item["url"] == "https://candidat.francetravail.fr/offres/recherche/detail/082SGKK"
    assert item["romes"] == [{"code": "Z9999", "label": "Métier Z"}]
    assert item["company"]["naf_code"] == "4752A"
    assert item["offer"]["duration_months"] == 24
    assert item["diploma_level"] == 4
    with pytest.raises(MalformedOffer):
        check_offers([{"identifiant": "x"}, "nope"])
    check_offers([])
    assert len(map_offers([base, {"id": None}], LABELS, centre=None)) == 1   # one bad offer is only dropped


# -- the happy path, tokens -----------------------------------------------------------------


def test_search_sends_the_france_travail_query_and_maps_the_answer(fake: FakeFranceTravail) -> None:
    page = run(fake, lambda s: search(s, diploma=5, radius_km=29.5))
    assert page.total == 8 and len(page.items) == 8
    assert page.items[0]["place"]["distance_km"] is not None
    [token] = fake.calls("token")
    assert token.params == {"grant_type": "client_credentials", "client_id": fake.client_id,
                            "client_secret": fake.client_secret, "scope": "api_offresdemploiv2 o2dsoffre"}
    [call] = fake.calls("search")
    assert call.params == {"natureContrat": "E2,FS", "codeROME": "D1212", "commune": "57463", "distance": "30",
                           "sort": "2", "niveauFormation": "NV3", "range": "0-149"}
    assert call.headers["authorization"].startswith("Bearer tok-")


def test_place_variants(fake: FakeFranceTravail) -> None:
    async def scenario(source: FranceTravailSource) -> None:
        await search(source, insee="75056")
        await search(source, insee=None)
        await search(source, insee=None, latitude=None, longitude=None)
    run(fake, scenario)
    paris, by_coordinates, france = (c.params for c in fake.calls("search"))
    assert paris["commune"] == "75101"                         # FT wants an arrondissement
    assert by_coordinates["latitude"] == "49.1193" and by_coordinates["longitude"] == "6.1757"
    assert "commune" not in by_coordinates and by_coordinates["sort"] == "2"
    assert "distance" not in france and "commune" not in france and france["sort"] == "1"


def test_token_is_cached_then_refreshed_before_expiry(fake: FakeFranceTravail) -> None:
    fake.expires_in = 1          # refreshed halfway through such a short life

    async def scenario(source: FranceTravailSource) -> None:
        await search(source, radius_km=10)
        await search(source, radius_km=20)        # another query (no cache hit), same token
        assert len(fake.calls("token")) == 1
        await asyncio.sleep(0.6)
        await search(source, radius_km=30)
        assert len(fake.calls("token")) == 2
    run(fake, scenario)
    tokens = [c.headers["authorization"] for c in fake.calls("search")]
    assert tokens[0] == tokens[1] != tokens[2]


def test_a_401_refreshes_the_token_once(fake: FakeFranceTravail) -> None:
    async def scenario(source: FranceTravailSource) -> Exception:
        await search(source, radius_km=10)
        fake.revoke_tokens()                      # FT forgot our token before its expiry
        page = await search(source, radius_km=20)
        assert page.total == 8
        fake.script("search", Behaviour(status=401), Behaviour(status=401))
        error, _ = await failing(search(source, radius_km=30), UpstreamAuthError)
        return error
    error = run(fake, scenario)
    assert len(fake.calls("token")) == 3 and len(fake.calls("search")) == 5
    assert error.status == 401


# -- faults, each within its budget -------------------------------------------------------------


@pytest.mark.parametrize("behaviour, error", [
    (Behaviour(status=500), UpstreamUnavailable),
    (Behaviour(status=503, json={"message": "maintenance"}), UpstreamUnavailable),
    (Behaviour(body='{"resultats": [', status=200), UpstreamBadResponse),
    (Behaviour(json={"offres": []}, status=200), UpstreamBadResponse),
    (Behaviour(json={"resultats": [{"identifiant": 1}, {"id": "x y"}]}, status=206), UpstreamBadResponse),
    (Behaviour(json=["not", "an", "object"], status=200), UpstreamBadResponse),
    (Behaviour(status=400, json={"message": "commune invalide"}), UpstreamBadResponse),
])
def test_upstream_faults_raise_typed_errors(fake: FakeFranceTravail, behaviour: Behaviour,
                                            error: type[Exception]) -> None:
    fake.script("search", behaviour)
    caught, elapsed = run(fake, lambda s: failing(search(s), error))
    assert isinstance(caught, UpstreamError) and elapsed < 1.0


def test_read_timeout_and_hang_stay_within_budget(fake: FakeFranceTravail) -> None:
    fake.script("search", Behaviour(delay=2.0), HANG)
    # A slow answer: cut by FT_READ_TIMEOUT although the budget is larger.
    _, elapsed = run(fake, lambda s: failing(search(s, budget_s=5.0), UpstreamTimeout), read_timeout=0.3)
    assert 0.3 <= elapsed < 0.3 + SLACK
    # A hang with a generous read timeout: cut by the search budget.
    _, elapsed = run(fake, lambda s: failing(search(s, budget_s=0.5), UpstreamTimeout), read_timeout=30.0)
    assert 0.5 <= elapsed < 0.5 + SLACK


def test_token_endpoint_faults(fake: FakeFranceTravail) -> None:
    fake.script("token", Behaviour(status=500), Behaviour(json={"token": "x"}, status=200), HANG)

    async def scenario(source: FranceTravailSource) -> None:
        error, elapsed = await failing(search(source, start=0), UpstreamAuthError)
        assert error.status == 500 and elapsed < 1.0
        await failing(search(source, start=150), UpstreamAuthError)
        _, elapsed = await failing(search(source, start=300, budget_s=0.5), UpstreamTimeout)
        assert elapsed < 0.5 + SLACK
    run(fake, scenario)
    assert fake.calls("search") == []
    wrong = run(fake, lambda s: failing(search(s), UpstreamAuthError), client_secret="wrong-secret-42")
    assert "(invalid_client)" in str(wrong[0]) and "wrong-secret-42" not in str(wrong[0])


def test_429_is_retried_honouring_retry_after_within_the_budget(fake: FakeFranceTravail) -> None:
    async def scenario(source: FranceTravailSource) -> None:
        fake.script("search", Behaviour(status=429, headers={"Retry-After": "1"}))
        began = time.monotonic()
        page = await search(source, start=0, budget_s=3.0)
        assert page.total == 8 and 1.0 <= time.monotonic() - began < 1.0 + SLACK
        # Waiting 10 s cannot fit in a 1 s budget: give up at once instead of sleeping.
        fake.script("search", Behaviour(status=429, headers={"Retry-After": "10"}))
        error, elapsed = await failing(search(source, start=150, budget_s=1.0), UpstreamUnavailable)
        assert error.status == 429 and elapsed < 0.3
        # No Retry-After: bounded exponential back-off (0.5 s, 1 s), then give up.
        fake.script("search", *[Behaviour(status=429)] * 3)
        _, elapsed = await failing(search(source, start=300, budget_s=3.0), UpstreamUnavailable)
        assert 1.5 <= elapsed < 1.5 + SLACK
    run(fake, scenario)
    assert len(fake.calls("search")) == 2 + 1 + 3


def test_204_means_no_offers(fake: FakeFranceTravail) -> None:
    page = run(fake, lambda s: search(s, ["A1101"]))
    assert page == OffersPage([], 0)
    assert fake.calls("search")[0].params["codeROME"] == "A1101"


def test_206_pages_follow_content_range_in_aligned_blocks(fake: FakeFranceTravail) -> None:
    fake.add_offers("M1607", 300)

    async def scenario(source: FranceTravailSource) -> None:
        page = await search(source, ["M1607"], start=140, count=20)
        assert page.total == 300
        assert [i["title"] for i in page.items] == [f"Offre M1607 {n}" for n in range(140, 160)]
        assert [c.params["range"] for c in fake.calls("search")] == ["0-149", "150-299"]
        page = await search(source, ["M1607"], start=150, count=10)      # served from the cache
        assert page.items[0]["title"] == "Offre M1607 150" and len(fake.calls("search")) == 2
        page = await search(source, ["M1607"], start=295, count=20)
        assert len(page.items) == 5 and len(fake.calls("search")) == 2
        page = await search(source, ["M1607"], start=3100, count=20)
        assert page.items == [] and len(fake.calls("search")) == 3     # 3000-3149: 204
    run(fake, scenario, range_size=150)


# -- cache, parallel ROME chunks, merge ---------------------------------------------------------------


def test_identical_search_is_served_from_the_cache(fake: FakeFranceTravail) -> None:
    async def scenario(source: FranceTravailSource) -> None:
        first = await search(source, ["D1212", "d1212 "])
        second = await search(source, [" D1212"])                 # same normalised query
        assert first == second
        assert len(fake.calls("search")) == 1 and len(fake.calls("token")) == 1
        fake.script("search", Behaviour(status=500))
        await search(source)                                         # the cache answers, FT is not asked
        await failing(search(source, insee="54395"), UpstreamUnavailable)   # a new query gets the 500
        await search(source, insee="54395")                         # failures are not cached
        assert len(fake.calls("search")) == 3
        await search(source, insee="54395")
        assert len(fake.calls("search")) == 3
        await asyncio.sleep(0.35)                                    # FT_CACHE_TTL
        await search(source, insee="54395")
        assert len(fake.calls("search")) == 4
    run(fake, scenario, cache_ttl=0.3)


def test_rome_codes_are_split_into_parallel_calls(fake: FakeFranceTravail) -> None:
    for rome in ("A1101", "B1101", "C1101", "M1607"):
        fake.add_offers(rome, 2)
    fake.script("search", *[Behaviour(delay=0.4)] * 3)
    romes = ["M1607", "D1212", "C1101", "B1101", "A1101"]

    async def scenario(source: FranceTravailSource) -> tuple[OffersPage, float]:
        began = time.monotonic()
        page = await search(source, romes, count=100)
        return page, time.monotonic() - began
    page, elapsed = run(fake, scenario, romes_per_call=2)
    calls = fake.calls("search")
    assert sorted(c.params["codeROME"] for c in calls) == ["A1101,B1101", "C1101,D1212", "M1607"]
    assert fake.max_in_flight == 3 and elapsed < 0.4 * 2          # in parallel, not 1.2 s
    assert page.total == 16 and len(page.items) == 16
    distances = [i["place"]["distance_km"] for i in page.items]
    assert distances == sorted(distances)                           # one order across chunks
    assert len(calls[0].params["codeROME"].split(",")) <= 2


def test_a_failing_chunk_fails_the_search_and_cancels_the_others(fake: FakeFranceTravail) -> None:
    fake.script("search", Behaviour(status=500), HANG)
    _, elapsed = run(fake, lambda s: failing(search(s, ["A1101", "B1101"], budget_s=3.0), UpstreamUnavailable),
                     romes_per_call=1)
    assert elapsed < 1.0


def test_merge_offers_removes_duplicates_by_offer_id() -> None:
    live = map_offers(sample_body()["resultats"][:3], LABELS, centre=None)
    stale = dict(live[1], title="ancienne version")
    demo = dict(live[0], id="offer:demo-1", demo=True)
    merged = merge_offers([demo, stale], live + [live[2]])
    assert [i["id"] for i in merged] == ["offer:ft-082SGKK", "offer:ft-088KPWY", "offer:ft-088JJPC", "offer:demo-1"]
    assert merged[1]["title"] == live[1]["title"]                   # the live copy wins
    assert merge_offers([demo], []) == [demo] and merge_offers([], live) == live


# -- circuit breaker ------------------------------------------------------------------------------


def test_breaker_states_with_a_fake_clock() -> None:
    now = [0.0]
    breaker = CircuitBreaker(2, 10.0, clock=lambda: now[0])
    breaker.permit().failure()
    breaker.permit().success()                      # not consecutive: stays closed
    breaker.permit().failure()
    breaker.permit().failure()
    assert breaker.state == "open"
    with pytest.raises(BreakerOpen) as refused:
        breaker.permit()
    assert refused.value.retry_after == 10.0
    now[0] = 10.0
    trial = breaker.permit()
    assert breaker.state == "half-open"
    with pytest.raises(BreakerOpen):
        breaker.permit()                            # one trial at a time
    trial.release()                                 # cancelled: the next caller makes the trial
    trial = breaker.permit()
    trial.failure()
    assert breaker.state == "open"
    now[0] = 20.0
    breaker.permit().success()
    assert breaker.state == "closed"


def test_breaker_opens_stays_open_tries_once_and_closes(fake: FakeFranceTravail) -> None:
    fake.script("search", Behaviour(status=500), Behaviour(status=500), Behaviour(delay=0.3, status=500),
                Behaviour(delay=0.3))

    async def scenario(source: FranceTravailSource) -> None:
        for start in (0, 150):
            await failing(search(source, start=start), UpstreamUnavailable)
        assert source.breaker.state == "open"
        error, elapsed = await failing(search(source, start=300), CircuitOpen)
        assert elapsed < 0.1 and 0 < error.retry_after <= 0.5 and len(fake.calls("search")) == 2
        await asyncio.sleep(0.5)
        # Half-open: the first search is the trial, a concurrent one is refused at once.
        trial = asyncio.create_task(search(source, start=450))
        await asyncio.sleep(0.05)
        await failing(search(source, start=600), CircuitOpen)
        with pytest.raises(UpstreamUnavailable):
            await trial
        assert source.breaker.state == "open" and len(fake.calls("search")) == 3
        await asyncio.sleep(0.5)
        page = await search(source, start=0, count=5)        # trial succeeds: closed again
        assert len(page.items) == 5 and source.breaker.state == "closed"
        fake.script("search", Behaviour(status=400))          # our query refused: not a health issue
        for start in (150, 300):
            fake.script("search", Behaviour(status=400))
            await failing(search(source, start=start), UpstreamBadResponse)
        assert source.breaker.state == "closed"
    run(fake, scenario, breaker_threshold=2, breaker_cooldown=0.5)


def test_timeouts_open_the_breaker(fake: FakeFranceTravail) -> None:
    fake.script("search", HANG, HANG)

    async def scenario(source: FranceTravailSource) -> None:
        for start in (0, 150):
            await failing(search(source, start=start, budget_s=0.3), UpstreamTimeout)
        await failing(search(source, start=300), CircuitOpen)
    run(fake, scenario, breaker_threshold=2, breaker_cooldown=30.0)

    async def cut_off_by_caller(source: FranceTravailSource) -> None:
        # A caller cutting us off at the end of our budget: a timeout too.
        for start in (0, 150):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await search(source, start=start, budget_s=0.3)
        assert source.breaker.state == "open"
    fake.script("search", HANG, HANG)
    run(fake, cut_off_by_caller, breaker_threshold=2, breaker_cooldown=30.0)


# -- secrets ------------------------------------------------------------------------------------------


def test_secrets_never_reach_logs_errors_or_reprs(fake: FakeFranceTravail, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[Exception] = []

    async def scenario(source: FranceTravailSource) -> str:
        await search(source, start=0)
        fake.revoke_tokens()
        await search(source, start=150)                              # 401 then refresh
        fake.script("search", Behaviour(status=401), Behaviour(status=401))
        errors.append((await failing(search(source, start=300), UpstreamAuthError))[0])
        fake.script("token", Behaviour(status=503, json={"error": fake.client_secret}))
        fake.revoke_tokens()
        fake.script("search", Behaviour(status=401))
        errors.append((await failing(search(source, start=450), UpstreamAuthError))[0])
        return repr(source) + repr(source.settings) + repr(source._client) + repr(source._client._token)
    reprs = run(fake, scenario)
    errors.append(run(fake, lambda s: failing(search(s), UpstreamAuthError), client_secret="other-secret-7")[0])
    tokens = {c.headers["authorization"].removeprefix("Bearer ") for c in fake.calls("search")}
    assert len(tokens) >= 2
    texts = [caplog.text, reprs] + [f"{e!s} {e!r} {e.__cause__!r}" for e in errors]
    for secret in (fake.client_secret, "other-secret-7", *tokens):
        for text in texts:
            assert secret not in text
    assert "France Travail" in caplog.text                            # the logs did say something
