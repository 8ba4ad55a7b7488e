"""Rate limits shared through a real redis-server: by the workers of a host and by two hosts,
failing open (per-process buckets, one warning) while Redis is down, shared again once it is back."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Iterator

import pytest
from processes import RedisServer, Server, redis_server, widget_server

from widget_server.settings import SettingError, Settings
from widget_server.web.rate_redis import KEY_PREFIX, RETRY_S, RedisBuckets, redacted
from widget_server.web.rate_limit import TokenBuckets

BURST = 4
LIMITS = {"WIDGET_RATE_PER_IP": "0.1", "WIDGET_RATE_BURST_PER_IP": str(BURST),
          "WIDGET_RATE_PER_CALLER": "0.1", "WIDGET_RATE_BURST_PER_CALLER": str(BURST)}
UNREACHABLE = "unreachable ("


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def hosts(redis: RedisServer, dataset_path: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """Two "hosts" sharing one Redis: the first with two workers, the second with one."""
    tmp = tmp_path_factory.mktemp("hosts")
    env = {**LIMITS, "WIDGET_REDIS_URL": redis.url}
    with widget_server(dataset_path, tmp, workers=2, wait=False, **env) as a, \
            widget_server(dataset_path, tmp, wait=False, **env) as b:
        a.wait_ready()
        b.wait_ready()
        yield a, b


def lookup(server: Server, source: str) -> int:
    return server.get("/api/v1/metiers", source=source, q="boul").status_code


def search(server: Server, source: str, caller: str) -> int:
    return server.get("/api/v1/search", source=source, caller=caller, romes="D1102", insee="75056",
                      types="formations", limit="1").status_code


def test_a_limit_spent_on_one_host_is_seen_by_the_other(hosts):
    a, b = hosts
    client = "127.0.1.1"
    assert [lookup(s, client) for s in (a, b, a, b)] == [200] * BURST      # one burst for both
    refused = a.get("/api/v1/metiers", source=client, q="boul")
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 10
    assert lookup(b, client) == 429
    assert lookup(b, "127.0.1.2") == 200                                 # another client has its own


def test_the_workers_of_a_host_share_one_limit(hosts):
    a, _ = hosts
    # New connections each time: either worker may answer; together they allow one burst.
    assert [lookup(a, "127.0.1.3") for _ in range(BURST + 3)] == [200] * BURST + [429] * 3


def test_a_caller_limit_is_shared_across_addresses_and_hosts(hosts):
    a, b = hosts
    codes = [search(s, f"127.0.2.{i}", "partage.fr") for i, s in enumerate((a, b, a, b, a, b), 1)]
    assert codes == [200] * BURST + [429] * 2
    assert search(b, "127.0.2.9", "autre.fr") == 200


def test_redis_down_serves_requests_with_one_warning_then_back_shares_limits(hosts, redis):
    a, b = hosts
    client = "127.0.3.1"
    assert [lookup(s, client) for s in (a, b, a, b, a)] == [200] * BURST + [429]
    warnings_before = b.log_text().count(UNREACHABLE)
    redis.stop()
    try:
        # Fail open: each process counts for itself, so the client is served again...
        assert [lookup(b, client), lookup(b, client)] == [200, 200]
        time.sleep(RETRY_S + 0.2)                     # Redis asked again, still down: no second warning
        assert [lookup(b, client), lookup(b, client)] == [200, 200]
        assert lookup(b, client) == 429               # ...within that process's own burst
        log = b.log_text()
        assert log.count(UNREACHABLE) - warnings_before == 1     # one warning for the outage
        assert f"Redis at {redis.url} unreachable (ConnectionError" in log
    finally:
        redis.start()                                 # same port, empty
    time.sleep(RETRY_S + 0.2)
    back = "127.0.3.2"
    assert [lookup(s, back) for s in (a, b, a, b)] == [200] * BURST
    assert [lookup(a, back), lookup(b, back)] == [429, 429]    # shared again
    assert "answers again: rate limits are shared again" in b.log_text()


def test_the_redis_bucket_behaves_like_the_in_process_one(redis):
    async def scenario() -> list[float | None]:
        buckets = RedisBuckets(redis.url)
        try:
            draws = [("ip", "semantics", 2.0, 3), ("caller", "semantics", 1.0, 2)]
            return [await buckets.take(draws) for _ in range(4)]
        finally:
            await buckets.aclose()

    waits = asyncio.run(scenario())
    local_ip, local_caller = TokenBuckets(2.0, 3), TokenBuckets(1.0, 2)
    expected = []
    for _ in range(4):                                # stop at the first empty bucket
        wait = local_ip.take("k") or local_caller.take("k")
        expected.append(wait)
    assert waits[:2] == [0.0, 0.0] and expected[:2] == [0.0, 0.0]
    assert waits[2] == pytest.approx(expected[2], abs=0.05)        # the caller's: about 1 s at 1/s
    assert waits[3] == pytest.approx(expected[3], abs=0.05)        # the address's: about 0.5 s at 2/s
    with socket.create_connection(("127.0.0.1", redis.port), timeout=1) as s:
        s.sendall(f"PTTL {KEY_PREFIX}ip:semantics\r\n".encode())
        ttl_ms = int(s.recv(64).strip()[1:])
    assert 0 < ttl_ms <= 2500                          # forgotten once full again (3 / 2 s, plus 1 s)


def test_a_redis_url_must_be_one():
    with pytest.raises(SettingError, match="WIDGET_REDIS_URL.*redis://host:6379/0"):
        Settings.from_env({"WIDGET_REDIS_URL": "http://cache.internal:6379"})
    assert Settings.from_env({"WIDGET_REDIS_URL": "rediss://:secret@cache.internal:6380/1"}).redis_url
    assert redacted("rediss://:secret@cache.internal:6380/1") == "rediss://cache.internal:6380/1"


def test_an_unresponsive_redis_costs_one_bounded_wait():
    # A listening socket nobody accepts from: the connection opens, no answer ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)

        async def scenario() -> tuple[float | None, float, float | None, float]:
            buckets = RedisBuckets(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
            try:
                started = time.perf_counter()
                first = await buckets.take([("ip", "x", 1.0, 1)])
                first_s = time.perf_counter() - started
                started = time.perf_counter()
                second = await buckets.take([("ip", "x", 1.0, 1)])
                return first, first_s, second, time.perf_counter() - started
            finally:
                await buckets.aclose()

        first, first_s, second, second_s = asyncio.run(scenario())
    assert first is None and first_s < 0.5            # bounded by the 50 ms timeouts, no retries
    assert second is None and second_s < 0.01         # not asked again before RETRY_S
