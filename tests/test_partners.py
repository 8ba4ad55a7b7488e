"""The partner registry: file validation, origin matching, and its decisions over HTTP in both modes."""

from __future__ import annotations

import json

import pytest
from conftest import make_client
from test_errors import assert_error_shape

from widget_server.partners import PartnerRegistry, PartnersFileError, load_partners, parse_origin
from widget_server.settings import SettingError, Settings

PARTNERS_TOML = """
[partners."mon-site.fr"]
origins = ["https://www.mon-site.fr", "https://*.mon-site.fr"]
rate = 20
burst = 40

[partners."cfa-sud"]
origins = ["http://localhost:8080"]
"""
PARTNER = "https://www.mon-site.fr"
SEARCH = {"caller": "mon-site.fr", "romes": "D1102", "postal_code": "13001", "limit": "1"}


@pytest.fixture(scope="module")
def partners_file(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("partners") / "partners.toml"
    path.write_text(PARTNERS_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def registry(partners_file) -> PartnerRegistry:
    return PartnerRegistry(load_partners(partners_file), "strict")


def _app_client(dataset_path, partners_file, mode):
    from widget_server.app import create_app

    settings = Settings.from_env({}, dataset_path=dataset_path, reload_interval=0.0,
                                 partners_file=str(partners_file), partner_mode=mode)
    return make_client(create_app(settings))


@pytest.fixture(scope="module")
def strict(dataset_path, partners_file):
    with _app_client(dataset_path, partners_file, "strict") as client:
        yield client


@pytest.fixture(scope="module")
def open_(dataset_path, partners_file):
    with _app_client(dataset_path, partners_file, "open") as client:
        yield client


# --- the file -------------------------------------------------------------------------------

def test_toml_and_json_files_load_the_same(tmp_path, partners_file):
    as_json = tmp_path / "partners.json"
    as_json.write_text(json.dumps({"partners": {
        "mon-site.fr": {"origins": ["https://www.mon-site.fr", "https://*.mon-site.fr"], "rate": 20, "burst": 40},
        "cfa-sud": {"origins": ["http://localhost:8080"]}}}), encoding="utf-8")
    assert load_partners(as_json) == load_partners(partners_file)
    partner = load_partners(partners_file)["mon-site.fr"]
    assert (partner.rate, partner.burst) == (20.0, 40)


@pytest.mark.parametrize("content,expected", [
    ('[partners."a.fr"]\norigins = ["https://a.fr/"]', "'https://a.fr/' is not an origin"),
    ('[partners."a.fr"]\norigins = ["https://a.fr/page"]', "no path or trailing slash"),
    ('[partners."a.fr"]\norigins = ["a.fr"]', "'a.fr' is not an origin"),
    ('[partners."a.fr"]\norigins = ["https://*.fr"]', "'https://*.fr' is not an origin"),
    ('[partners."a.fr"]\norigins = ["*"]', "'*' is not an origin"),
    ('[partners."a.fr"]\norigins = ["ftp://a.fr"]', "'ftp://a.fr' is not an origin"),
    ('[partners."a.fr"]\norigins = []', "needs 'origins'"),
    ('[partners."a.fr"]\nrate = 3', "needs 'origins'"),
    ('[partners."a.fr"]\norigins = ["https://a.fr"]\nrate = 0', "'rate' has value 0"),
    ('[partners."a.fr"]\norigins = ["https://a.fr"]\nburst = 1.5', "'burst' has value 1.5"),
    ('[partners."a.fr"]\norigins = ["https://a.fr"]\norigin = "x"', "unknown keys ['origin']"),
    ('[partners."a fr"]\norigins = ["https://a.fr"]', "caller 'a fr' is not valid"),
    ('[partner."a.fr"]\norigins = ["https://a.fr"]', "has no 'partners' table"),
    ('[partners."a.fr"\norigins = 1', "is not valid TOML"),
])
def test_a_bad_file_says_where_and_how_to_fix_it(tmp_path, content, expected):
    path = tmp_path / "partners.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PartnersFileError) as info:
        load_partners(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message


def test_a_missing_file_is_an_error(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(PartnersFileError) as info:
        load_partners(path)
    assert str(info.value) == f"Partners file '{path}' cannot be read: No such file or directory."


# The whole message, for the mistakes a webmaster makes most: it names the file and says the fix.
@pytest.mark.parametrize("name,content,message", [
    ("partners.json", "{", "is not valid JSON: Expecting property name enclosed in double quotes: "
                           "line 1 column 2 (char 1)."),
    ("PARTNERS.JSON", "{", "is not valid JSON: Expecting property name enclosed in double quotes: "
                           "line 1 column 2 (char 1)."),
    ("partners.toml", "[partners", "is not valid TOML: Expected ']' at the end of a table declaration "
                                   "(at end of document)."),
    ("partners.toml", "partners = 1", "has no 'partners' table: write [partners.\"my-site.fr\"] (TOML) or "
                                      "{\"partners\": {\"my-site.fr\": {...}}} (JSON)."),
    ("partners.json", '{"partners": {}, "other": 1, "more": 2}',
     "has unknown top-level keys ['more', 'other']: only 'partners' is read."),
    ("partners.json", '{"partners": {"a.fr": 3}}',
     ": partner 'a.fr' must be a table with 'origins' (and optional 'rate', 'burst')."),
    ("partners.json", '{"partners": {"a.fr": {"origins": []}}}',
     ": partner 'a.fr' needs 'origins', a non-empty list of origins such as [\"https://www.example.fr\"]."),
])
def test_the_whole_message_of_a_bad_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PartnersFileError) as info:
        load_partners(path)
    assert str(info.value) == f"Partners file '{path}' {message}".replace("' :", "':")


def test_an_upper_case_json_suffix_is_read_as_json(tmp_path):
    path = tmp_path / "PARTNERS.JSON"
    path.write_text('{"partners": {"a.fr": {"origins": ["https://a.fr"]}}}', encoding="utf-8")
    assert list(load_partners(path)) == ["a.fr"]


@pytest.mark.parametrize("rate,burst,ok", [
    (0.5, None, True),      # under one request per second is a rate
    (1e-9, None, True),
    (0, None, False),
    (-1, None, False),
    (True, None, False),    # TOML/JSON booleans are not numbers here
    ("20", None, False),
    (None, 1, True),        # a burst of one request is allowed
    (None, 0, False),
    (None, True, False),
    (None, 2.0, False),
])
def test_rate_and_burst_bounds(tmp_path, rate, burst, ok):
    entry = {"origins": ["https://a.fr"], **({"rate": rate} if rate is not None else {}),
             **({"burst": burst} if burst is not None else {})}
    path = tmp_path / "partners.json"
    path.write_text(json.dumps({"partners": {"a.fr": entry}}), encoding="utf-8")
    if ok:
        partner = load_partners(path)["a.fr"]
        assert (partner.caller, partner.rate, partner.burst) == ("a.fr", rate if rate is None else float(rate), burst)
    else:
        key, value = ("rate", rate) if rate is not None else ("burst", burst)
        with pytest.raises(PartnersFileError, match=f"'{key}' has value {value!r}"):
            load_partners(path)


def test_bad_mode_and_strict_without_partners_stop_the_start(tmp_path):
    with pytest.raises(SettingError, match="WIDGET_PARTNER_MODE"):
        PartnerRegistry.from_settings(Settings.from_env({}, partner_mode="closed"))
    with pytest.raises(SettingError) as info:
        PartnerRegistry.from_settings(Settings.from_env({}, partner_mode="strict"))
    assert str(info.value) == ("Setting 'WIDGET_PARTNER_MODE' is 'strict' but no partner is registered: "
                               "set WIDGET_PARTNERS_FILE to a file listing at least one partner.")


def test_a_registry_from_settings_holds_the_file_partners(partners_file):
    registry = PartnerRegistry.from_settings(Settings.from_env({}, partners_file=str(partners_file),
                                                               partner_mode="strict"))
    assert sorted(registry.partners) == ["cfa-sud", "mon-site.fr"] and registry.strict
    assert registry.get("mon-site.fr").caller == "mon-site.fr"


def test_the_default_registry_is_open():
    registry = PartnerRegistry()
    assert not registry.strict and registry.allows("inconnu", "https://n-importe-ou.fr")


def test_the_app_refuses_to_start_on_a_bad_file(tmp_path):
    from widget_server.app import create_app

    path = tmp_path / "partners.toml"
    path.write_text('[partners."a.fr"]\norigins = ["https://a.fr/"]', encoding="utf-8")
    with pytest.raises(PartnersFileError, match="a.fr"):
        create_app(Settings.from_env({}, partners_file=str(path)))


# --- matching -------------------------------------------------------------------------------

@pytest.mark.parametrize("origin,allowed", [
    ("https://www.mon-site.fr", True),
    ("https://WWW.Mon-Site.fr", True),          # hosts are case-insensitive
    ("https://www.mon-site.fr:443", True),      # the default port is the same origin
    ("https://emploi.mon-site.fr", True),       # wildcard: one level
    ("https://a.b.mon-site.fr", True),          # wildcard: any depth
    ("https://mon-site.fr", False),             # wildcard: not the domain itself
    ("http://www.mon-site.fr", False),          # another scheme
    ("https://www.mon-site.fr:8443", False),    # another port
    ("https://evilmon-site.fr", False),         # a suffix is not a sub-domain
    ("https://www.mon-site.fr.evil.com", False),
    ("null", False),
    ("https://www.mon-site.fr/page", False),
])
def test_origins_match_exactly_or_by_subdomain(registry, origin, allowed):
    assert registry.allows("mon-site.fr", origin) is allowed


def test_parse_origin_normalises():
    assert str(parse_origin("HTTPS://Www.Example.FR:443")) == "https://www.example.fr"
    assert str(parse_origin("http://localhost:8080")) == "http://localhost:8080"
    assert parse_origin("https://*.example.fr") is None   # a request's origin is never a pattern
    assert str(parse_origin("https://*.example.fr", allow_wildcard=True)) == "https://*.example.fr"


def _origin_of_length(n: int) -> str:
    """A valid origin of exactly n characters (labels of at most 63)."""
    labels, left = [], n - len("https://") - len(".fr")
    while left > 0:
        size = min(63, left)
        if left - size == 1:        # never leave a lone dot
            size -= 1
        labels.append("a" * size)
        left -= size + 1
    origin = "https://" + ".".join(labels) + ".fr"
    assert len(origin) == n, len(origin)
    return origin


def test_origin_length_bound():
    assert parse_origin(_origin_of_length(300)) is not None
    assert parse_origin(_origin_of_length(301)) is None


@pytest.mark.parametrize("port,ok", [(0, False), (1, True), (65535, True), (65536, False), (99999, False)])
def test_port_bounds(port, ok):
    origin = parse_origin(f"https://a.fr:{port}")
    assert (origin is not None) is ok
    if ok:
        assert origin.port == port


def test_a_wildcard_never_covers_an_ip_address():
    assert parse_origin("https://*.[::ffff:10.0.0.1]", allow_wildcard=True) is None
    assert parse_origin("https://[::ffff:10.0.0.1]") is not None


def test_strict_frame_ancestors_are_the_partner_list_or_none(registry):
    assert registry.frame_ancestors("mon-site.fr") == "'self' https://www.mon-site.fr https://*.mon-site.fr"
    assert registry.frame_ancestors("inconnu") == "'none'"
    assert registry.frame_ancestors(None) == "'none'"


def test_open_mode_frames_anywhere_for_unknown_callers_only(partners_file):
    registry = PartnerRegistry(load_partners(partners_file), "open")
    assert registry.frame_ancestors("inconnu") == "*"
    assert registry.frame_ancestors("cfa-sud") == "'self' http://localhost:8080"
    assert registry.allows("inconnu", "https://n-importe-ou.fr")
    assert not registry.allows("cfa-sud", "https://n-importe-ou.fr")


def test_cors_origin(registry, partners_file):
    assert registry.cors_origin("mon-site.fr", "https://emploi.mon-site.fr") == "https://emploi.mon-site.fr"
    assert registry.cors_origin("mon-site.fr", "https://evil.fr") is None
    assert registry.cors_origin("inconnu", PARTNER) is None
    assert registry.cors_origin(None, PARTNER) == PARTNER            # lookups: any partner's origin
    assert registry.cors_origin(None, "https://evil.fr") is None
    assert registry.cors_origin("mon-site.fr", None) is None
    open_registry = PartnerRegistry(load_partners(partners_file), "open")
    assert open_registry.cors_origin("inconnu", "https://evil.fr") == "*"
    assert open_registry.cors_origin("mon-site.fr", "https://evil.fr") is None


def test_widget_policy(registry, partners_file):
    policy = registry.widget_policy("mon-site.fr", "https://emploi.mon-site.fr")
    assert policy.allowed and policy.post_message_origin == "https://emploi.mon-site.fr"
    assert policy.frame_ancestors == "'self' https://www.mon-site.fr https://*.mon-site.fr"
    refused = registry.widget_policy("mon-site.fr", "https://evil.fr")
    assert not refused.allowed and refused.post_message_origin is None
    unknown = registry.widget_policy("inconnu", PARTNER)
    assert (unknown.allowed, unknown.post_message_origin, unknown.frame_ancestors) == (False, None, "'none'")
    # One exact origin and no parent reported: that origin is the only one that can frame it.
    assert registry.widget_policy("cfa-sud", None).post_message_origin == "http://localhost:8080"
    assert registry.widget_policy("mon-site.fr", None).post_message_origin is None
    demo = PartnerRegistry(load_partners(partners_file), "open").widget_policy("demo", "https://blog.example")
    assert (demo.allowed, demo.post_message_origin, demo.frame_ancestors) == (True, "https://blog.example", "*")


# --- over HTTP: strict ----------------------------------------------------------------------

def test_strict_unknown_caller_is_403(strict):
    r = strict.get("/api/v1/search", params={**SEARCH, "caller": "inconnu.fr"}, headers={"Origin": PARTNER})
    error = assert_error_shape(r, 403)
    assert error["code"] == "unknown_caller" and "inconnu.fr" in error["message"]
    assert "access-control-allow-origin" not in r.headers


def test_strict_known_caller_from_its_origins(strict):
    for origin in (PARTNER, "https://a.b.mon-site.fr"):
        r = strict.get("/api/v1/search", params=SEARCH, headers={"Origin": origin})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == origin
        assert "Origin" in r.headers["vary"] and "Accept-Encoding" in r.headers["vary"]
        assert "ETag" in r.headers["access-control-expose-headers"]


def test_strict_known_caller_from_another_origin_is_403(strict):
    r = strict.get("/api/v1/search", params=SEARCH, headers={"Origin": "https://evil.fr"})
    error = assert_error_shape(r, 403)
    assert error["code"] == "origin_not_allowed"
    # It names the partner whose list the origin is not on, so the webmaster knows which to edit.
    assert error["message"] == ("L'origine https://evil.fr ne fait pas partie des origines autorisées "
                                "du partenaire « mon-site.fr ».")
    assert "access-control-allow-origin" not in r.headers


def test_strict_without_origin_or_from_ourselves_is_not_origin_checked(strict):
    r = strict.get("/api/v1/search", params=SEARCH)                     # curl, a server
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    assert "Origin" in r.headers["vary"]
    r = strict.get("/api/v1/search", params=SEARCH, headers={"Origin": "http://testserver"})   # the widget page
    assert r.status_code == 200


def test_strict_lookups_follow_any_partner_origin(strict):
    r = strict.get("/api/v1/metiers", params={"q": "boulanger"}, headers={"Origin": "http://localhost:8080"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://localhost:8080"
    r = strict.get("/api/v1/communes", params={"q": "lyon"}, headers={"Origin": "https://evil.fr"})
    assert assert_error_shape(r, 403)["code"] == "origin_not_allowed"


def test_strict_preflight(strict):
    headers = {"Origin": "https://emploi.mon-site.fr", "Access-Control-Request-Method": "GET"}
    r = strict.options("/api/v1/search?caller=mon-site.fr", headers=headers)
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "https://emploi.mon-site.fr"
    assert "GET" in r.headers["access-control-allow-methods"]
    assert int(r.headers["access-control-max-age"]) > 0
    assert "Origin" in r.headers["vary"]
    r = strict.options("/api/v1/search?caller=mon-site.fr",
                       headers={**headers, "Origin": "https://evil.fr"})
    assert assert_error_shape(r, 403)["code"] == "origin_not_allowed"


def test_strict_never_answers_star(strict):
    cases = [("/api/v1/search", SEARCH, PARTNER), ("/api/v1/search", SEARCH, None),
             ("/api/v1/metiers", {"q": "boul"}, PARTNER), ("/api/v1/metiers", {"q": "boul"}, None),
             ("/api/openapi.json", {}, "http://localhost:8080"), ("/healthz", {}, PARTNER)]
    for path, params, origin in cases:
        r = strict.get(path, params=params, headers={"Origin": origin} if origin else {})
        assert r.headers.get("access-control-allow-origin") != "*", path


# --- over HTTP: open ------------------------------------------------------------------------

def test_open_any_caller_from_anywhere_gets_star(open_):
    r = open_.get("/api/v1/search", params={**SEARCH, "caller": "mon-blog"}, headers={"Origin": "https://blog.example"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "Origin" not in r.headers.get("vary", "")      # the same answer for every origin
    r = open_.options("/api/v1/metiers?q=boul",
                      headers={"Origin": "https://blog.example", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "*"


def test_open_still_holds_registered_partners_to_their_origins(open_):
    r = open_.get("/api/v1/search", params=SEARCH, headers={"Origin": "https://evil.fr"})
    assert assert_error_shape(r, 403)["code"] == "origin_not_allowed"
    r = open_.get("/api/v1/search", params=SEARCH, headers={"Origin": PARTNER})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == PARTNER
