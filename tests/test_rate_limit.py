"""Rate limits: token buckets per client address and per caller, 429 + Retry-After, exemptions, bounded memory."""

from __future__ import annotations

import pytest
from conftest import make_client
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from test_errors import assert_error_shape

from widget_server.partners import Partner, PartnerRegistry, parse_origin
from widget_server.settings import Settings
from widget_server.web.rate_limit import RateLimitMiddleware, TokenBuckets, client_key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _tiny(clock=None, **kwargs) -> TestClient:
    async def ok(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route(p, ok) for p in ("/api/v1/search", "/healthz", "/metrics", "/widget.js",
                                                      "/static/a.js")])
    kwargs.setdefault("per_ip", (1.0, 3))
    kwargs.setdefault("per_caller", (0.0, 1))
    return TestClient(RateLimitMiddleware(app, clock=clock or FakeClock(), **kwargs))


def test_bucket_allows_the_burst_then_refills_at_the_rate():
    clock = FakeClock()
    buckets = TokenBuckets(2.0, 4, clock=clock)
    assert [buckets.take("a") for _ in range(4)] == [0.0] * 4
    assert buckets.take("a") == pytest.approx(0.5)        # one token comes back in 1/2 s
    assert buckets.take("b") == 0.0                        # another key has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(0.5)


def test_refill_stops_at_the_burst():
    # The bucket lives burst / rate = 2 s after its last take: refill it for 1.9 s, before it expires
    # (an expired bucket is recreated full, which would hide an uncapped refill).
    clock = FakeClock()
    buckets = TokenBuckets(2.0, 4, clock=clock)
    assert buckets.take("a") == 0.0                        # 3 left
    clock.now += 1.9                                       # 3 + 3.8 tokens, capped at 4
    allowed = 0
    while buckets.take("a") == 0.0 and allowed < 10:
        allowed += 1
    assert allowed == 4
    assert buckets.take("a") == pytest.approx(0.5)         # empty: the next token in 1/rate


def test_a_take_with_a_partner_rate_and_burst_uses_them():
    clock = FakeClock()
    buckets = TokenBuckets(1.0, 10, clock=clock)
    assert [buckets.take("p", 4.0, 2) for _ in range(3)] == [0.0, 0.0, pytest.approx(0.25)]
    clock.now += 0.25
    assert buckets.take("p", 4.0, 2) == 0.0


def test_buckets_are_bounded():
    clock = FakeClock()
    buckets = TokenBuckets(1.0, 2, clock=clock, maxsize=50)
    for i in range(1000):
        buckets.take(f"10.0.{i // 256}.{i % 256}")
    assert len(buckets) <= 50
    clock.now += 10          # past a full refill: forgotten buckets would have been full anyway
    buckets.take("x")
    assert len(buckets) == 1


def test_429_after_the_burst_with_retry_after_in_the_error_shape(dataset_path):
    from widget_server.app import create_app

    settings = Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0,
                                 rate_per_ip=0.5, rate_burst_per_ip=3)
    with make_client(create_app(settings)) as client:
        statuses = [client.get("/api/v1/metiers", params={"q": "boul"}).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        r = client.get("/api/v1/communes", params={"q": "lyon"})
        error = assert_error_shape(r, 429)
        assert error["code"] == "rate_limited"
        assert r.headers["retry-after"] == "2"               # one token at 0.5/s
        assert "2 s" in error["message"] and "réessayez" in error["message"]
        # Health checks, scrapes and static assets are never refused.
        assert all(client.get("/healthz").status_code == 200 for _ in range(10))
        assert all(client.get("/metrics").status_code == 200 for _ in range(10))


def test_exempt_paths_are_not_limited():
    client = _tiny(per_ip=(1.0, 1))
    for path in ("/healthz", "/metrics", "/widget.js", "/static/a.js"):
        assert all(client.get(path).status_code == 200 for _ in range(5)), path
    assert client.get("/api/v1/search").status_code == 200
    assert client.get("/api/v1/search").status_code == 429


def test_x_forwarded_for_is_ignored_unless_trusted():
    spoofing = _tiny()
    codes = [spoofing.get("/api/v1/search", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
             for i in range(4)]
    assert codes == [200, 200, 200, 429]          # one client, whatever it claims
    behind_proxy = _tiny(trust_proxy=True)
    codes = [behind_proxy.get("/api/v1/search", headers={"X-Forwarded-For": f"1.2.3.4, 198.51.100.{i}"}).status_code
             for i in range(4)]
    assert codes == [200] * 4                     # four clients, as the proxy says (last entry)
    codes = [behind_proxy.get("/api/v1/search", headers={"X-Forwarded-For": f"198.51.100.{i}, 203.0.113.9"}).status_code
             for i in range(4)]
    assert codes == [200, 200, 200, 429]          # entries before the proxy's own are the client's words


def test_per_caller_limit_spans_client_addresses():
    client = _tiny(trust_proxy=True, per_ip=(100.0, 100), per_caller=(1.0, 2))
    codes = [client.get("/api/v1/search", params={"caller": "site"},
                        headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/api/v1/search", params={"caller": "autre"}).status_code == 200


def test_a_partner_rate_overrides_the_default():
    origin = parse_origin("https://a.fr")
    assert origin is not None
    registry = PartnerRegistry({"gros": Partner("gros", (origin,), rate=100.0, burst=5),
                                "petit": Partner("petit", (origin,), rate=0.1, burst=1)})
    client = _tiny(registry=registry, per_ip=(0.0, 1), per_caller=(1.0, 2))
    assert [client.get("/api/v1/search?caller=gros").status_code for _ in range(5)] == [200] * 5
    r = [client.get("/api/v1/search?caller=petit") for _ in range(2)][-1]
    assert r.status_code == 429 and r.headers["retry-after"] == "10"


@pytest.mark.parametrize("address,key", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),          # one host usually owns a /64
    ("::ffff:203.0.113.7", "203.0.113.7"),                  # IPv4 through a dual-stack socket
])
def test_client_keys(address, key):
    assert client_key({"type": "http", "client": (address, 1234), "headers": []}, False) == key


def test_a_partner_budget_is_spent_only_from_its_own_pages():
    origin = parse_origin("https://www.a.fr")
    assert origin is not None
    registry = PartnerRegistry({"a.fr": Partner("a.fr", (origin,), rate=0.1, burst=2)})
    client = _tiny(registry=registry, per_ip=(0.0, 1), per_caller=(1.0, 2))
    anonymous = [client.get("/api/v1/search?caller=a.fr").status_code for _ in range(3)]
    foreign = client.get("/api/v1/search?caller=a.fr", headers={"Origin": "https://evil.example"}).status_code
    assert anonymous == [200, 200, 429] and foreign == 429          # both share the "a.fr:anon" bucket
    assert client.get("/api/v1/search?caller=a.fr", headers={"Origin": "https://www.a.fr"}).status_code == 200
    assert client.get("/api/v1/search?caller=a.fr",
                      headers={"Referer": "https://www.a.fr/page"}).status_code == 200
    assert client.get("/api/v1/search?caller=a.fr", headers={"Origin": "https://www.a.fr"}).status_code == 429


def _scope(path="/api/v1/search", query=b"", client=("192.0.2.1", 1234), **headers):
    return {"type": "http", "path": path, "query_string": query, "client": client,
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


def test_from_partner_page_reads_origin_referer_and_the_loaders_parent_origin():
    from widget_server.web.rate_limit import from_partner_page

    origin = parse_origin("https://www.a.fr")
    assert origin is not None
    partner = Partner("a.fr", (origin,))
    assert from_partner_page(_scope(origin="https://www.a.fr"), partner)
    assert not from_partner_page(_scope(origin="https://evil.example"), partner)
    assert from_partner_page(_scope(referer="https://www.a.fr/page?x=1"), partner)
    assert not from_partner_page(_scope(referer="ftp://www.a.fr/page"), partner)       # not a web page
    assert not from_partner_page(_scope(referer="https:///nohost"), partner)
    # "null" (a sandboxed frame) and our own host say nothing: the Referer is read next.
    assert from_partner_page(_scope(origin="null", referer="https://www.a.fr/"), partner)
    assert from_partner_page(_scope(origin="http://Widget.example:8000", host="widget.EXAMPLE:8000",
                                    referer="https://www.a.fr/"), partner)
    assert not from_partner_page(_scope(origin="http://widget.example:8000", host="other.example",
                                        referer="https://www.a.fr/"), partner)
    # The widget page (a navigation, no Origin) is framed by the page the loader names.
    widget = "/widget"
    assert from_partner_page(_scope(widget, b"caller=a.fr&parent_origin=https%3A%2F%2Fwww.a.fr"), partner)
    assert not from_partner_page(_scope(widget, b"caller=a.fr&parent_origin=https%3A%2F%2Fevil.example"), partner)
    assert not from_partner_page(_scope(widget, b"caller=a.fr&parent_origin="), partner)
    assert not from_partner_page(_scope(widget, b"caller=a.fr"), partner)
    # The API is fetched, so it has an Origin: a parent_origin there proves nothing.
    assert not from_partner_page(_scope(query=b"parent_origin=https%3A%2F%2Fwww.a.fr"), partner)


def test_client_address_behind_proxies():
    from widget_server.web.rate_limit import client_address

    two_lines = _scope(x_forwarded_for="198.51.100.1, 198.51.100.2")
    two_lines["headers"].append((b"x-forwarded-for", b"203.0.113.5"))
    assert client_address(two_lines, True, 1) == "203.0.113.5"
    assert client_address(two_lines, True, 2) == "198.51.100.2"
    assert client_address(two_lines, True, 3) == "198.51.100.1"
    assert client_address(two_lines, True, 4) == "198.51.100.1"     # fewer entries than hops: the first
    assert client_address(two_lines, False) == "192.0.2.1"
    assert client_address(_scope(x_forwarded_for=" "), True) == "192.0.2.1"
    assert client_address(_scope(client=None), False) is None
    assert client_key(_scope(client=None), False) == "-"
    assert client_key(_scope(client=("a" * 80, 1)), False) == "a" * 64
    assert client_key(_scope(client=("not:an:address" + "x" * 80, 1)), False) == ("not:an:address" + "x" * 80)[:64]
    assert client_key(_scope(x_forwarded_for="2001:db8::1"), True, 1) == "2001:db8::/64"


def test_a_slow_partner_bucket_is_kept_for_its_whole_refill():
    # petit refills 1 token in 10 s, more than the default bucket's 2 s life: its bucket must live 10 s.
    origin = parse_origin("https://a.fr")
    assert origin is not None
    clock = FakeClock()
    registry = PartnerRegistry({"petit": Partner("petit", (origin,), rate=0.1, burst=1)})
    client = _tiny(clock, registry=registry, per_ip=(0.0, 1), per_caller=(1.0, 2))
    assert client.get("/api/v1/search?caller=petit").status_code == 200
    clock.now += 5
    assert client.get("/api/v1/search?caller=petit").status_code == 429
    clock.now += 4.9
    assert client.get("/api/v1/search?caller=petit").status_code == 429
    clock.now += 0.2
    assert client.get("/api/v1/search?caller=petit").status_code == 200


def test_the_middleware_uses_its_clock_for_addresses_too():
    clock = FakeClock()
    client = _tiny(clock, per_ip=(1.0, 1))
    assert client.get("/api/v1/search").status_code == 200
    assert client.get("/api/v1/search").status_code == 429
    clock.now += 1.0
    assert client.get("/api/v1/search").status_code == 200


def test_a_bucket_lives_as_long_as_it_takes_to_refill():
    # rate 0.5, burst 2: empty to full in 4 s. After 3 s it holds 1.5 tokens, not a fresh 2.
    clock = FakeClock()
    buckets = TokenBuckets(0.5, 2, clock=clock)
    assert [buckets.take("a") for _ in range(2)] == [0.0, 0.0]
    clock.now += 3
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(1.0)        # 0.5 token left: one more in 1 s


def test_the_caller_bucket_lives_as_long_as_it_takes_to_refill():
    clock = FakeClock()
    client = _tiny(clock, per_ip=(0.0, 1), per_caller=(0.5, 2))    # 4 s to refill
    assert [client.get("/api/v1/search?caller=c").status_code for _ in range(2)] == [200, 200]
    clock.now += 3
    assert [client.get("/api/v1/search?caller=c").status_code for _ in range(2)] == [200, 429]


def test_a_partner_with_a_rate_and_no_burst_of_its_own():
    origin = parse_origin("https://a.fr")
    assert origin is not None
    registry = PartnerRegistry({"p": Partner("p", (origin,), rate=1.0)})
    client = _tiny(registry=registry, per_ip=(0.0, 1), per_caller=(1.0, 2))
    assert [client.get("/api/v1/search?caller=p").status_code for _ in range(3)] == [200, 200, 429]


def test_a_request_refused_by_address_spends_nothing_of_its_callers_budget():
    client = _tiny(trust_proxy=True, per_ip=(1.0, 1), per_caller=(1.0, 2))
    first = [client.get("/api/v1/search?caller=c", headers={"X-Forwarded-For": "198.51.100.1"}).status_code
             for _ in range(2)]
    assert first == [200, 429]                      # the second was refused by address
    other = client.get("/api/v1/search?caller=c", headers={"X-Forwarded-For": "198.51.100.2"}).status_code
    assert other == 200                             # one caller token left, not zero


def test_retry_after_is_one_second_at_least_and_rounded_up():
    client = _tiny(per_ip=(1.0, 1))
    client.get("/api/v1/search")
    assert client.get("/api/v1/search").headers["retry-after"] == "1"
    slow = _tiny(per_ip=(0.4, 1))
    slow.get("/api/v1/search")
    assert slow.get("/api/v1/search").headers["retry-after"] == "3"        # 2.5 s, rounded up


def test_proxy_hops_reach_the_address_the_outer_proxy_saw():
    client = _tiny(trust_proxy=True, proxy_hops=2)
    codes = [client.get("/api/v1/search", headers={"X-Forwarded-For": f"198.51.100.{i}, 10.0.0.1"}).status_code
             for i in range(4)]
    assert codes == [200] * 4                       # four clients behind two proxies
    two = _scope(x_forwarded_for="198.51.100.7, 10.0.0.1")
    assert client_key(two, True, 2) == "198.51.100.7" and client_key(two, True) == "10.0.0.1"
    from widget_server.web.rate_limit import client_address
    assert client_address(two, True) == "10.0.0.1"


def test_an_http_partner_page_is_read_from_its_referer():
    from widget_server.web.rate_limit import from_partner_page

    origin = parse_origin("http://intranet.a.fr")
    assert origin is not None
    partner = Partner("a", (origin,))
    assert from_partner_page(_scope(referer="http://intranet.a.fr/page"), partner)
