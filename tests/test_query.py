"""parse_search_query on its own, over a commune table of three rows: every rule, every error.

test_search.py checks the same through HTTP on a real dataset; these run in milliseconds
(and bench/mutation.py runs them once per mutant of query.py).
"""

from __future__ import annotations

import sqlite3

import pytest
from starlette.datastructures import QueryParams

from widget_server.errors import InvalidParameters
from widget_server.query import (
    DEFAULT_LIMIT, DEFAULT_RADIUS, MAX_LIMIT, MAX_PAGE, MAX_RADIUS, MAX_ROMES, TYPES, parse_search_query,
)
from widget_server.referentials.communes import CommuneIndex
from widget_server.store.schema import REFERENCE_DDL

ROMES = {"D1102": "Boulanger", "D1104": "Pâtissier", "D1108": "Chef", **{f"D11{i:02d}": "x" for i in range(30)}}
COMMUNES = [  # insee, name, postal codes, population, latitude, longitude
    ("69123", "Lyon", "69001 69002 69003", 519127, 45.7549, 4.8364),
    ("69266", "Villeurbanne", "69100", 150000, 45.7719, 4.8902),
    ("38185", "Grenoble", "38000 38100", 158000, 45.1885, 5.7245),
]


@pytest.fixture(scope="module")
def communes() -> CommuneIndex:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.executescript(REFERENCE_DDL)
    for i, (insee, name, postal, population, lat, lon) in enumerate(COMMUNES, 1):
        conn.execute("INSERT INTO commune (id, insee, name, postal_codes, dept_code, dept_name, population,"
                     " latitude, longitude, kind) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     (i, insee, name, postal, insee[:2], "Dépt", population, lat, lon, "commune"))
        conn.execute("INSERT INTO commune_geo VALUES (?,?,?,?,?)", (i, lat, lat, lon, lon))
    return CommuneIndex(conn)


def parse(communes, **params):
    params.setdefault("caller", "test")
    params.setdefault("romes", "D1102")
    return parse_search_query(QueryParams(params), ROMES, communes)


def problems(communes, **params) -> list[tuple[str, str]]:
    with pytest.raises(InvalidParameters) as caught:
        parse(communes, **params)
    return [(d.param, d.code) for d in caught.value.details]


def test_defaults(communes):
    q = parse(communes)
    assert (q.caller, q.romes, q.centre, q.radius_km, q.types, q.diploma, q.sort, q.limit, q.page) == (
        "test", ("D1102",), None, DEFAULT_RADIUS, TYPES, None, "distance", DEFAULT_LIMIT, 1)
    assert (DEFAULT_RADIUS, MAX_RADIUS, DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, MAX_ROMES) == (30, 200, 20, 100, 50, 20)


def test_romes_are_normalised_deduplicated_and_checked(communes):
    assert parse(communes, romes=" d1102 , D1104,d1102,, ").romes == ("D1102", "D1104")
    assert problems(communes, romes="") == [("romes", "missing")]
    assert problems(communes, romes=" , ") == [("romes", "missing")]      # was an AssertionError: a 500
    assert problems(communes, romes="D1102,boulanger") == [("romes", "bad_format")]
    assert problems(communes, romes="D11021") == [("romes", "bad_format")]
    assert problems(communes, romes="Z9999") == [("romes", "unknown_rome")]
    twenty = ",".join(f"D11{i:02d}" for i in range(20))
    assert len(parse(communes, romes=twenty).romes) == 20
    assert problems(communes, romes=twenty + ",D1120") == [("romes", "too_many")]
    assert len(parse(communes, romes=twenty + ",D1100").romes) == 20     # a repeat is not one more


def test_the_caller_is_required_and_checked(communes):
    assert problems(communes, caller="") == [("caller", "missing")]
    assert problems(communes, caller="mon site") == [("caller", "bad_format")]
    assert parse(communes, caller="mon-site.fr_2@x").caller == "mon-site.fr_2@x"


def test_a_centre_from_coordinates_insee_or_postal_code(communes):
    q = parse(communes, latitude="45.77", longitude="4.89")
    assert (q.centre.latitude, q.centre.longitude, q.centre.given_by) == (45.77, 4.89, "coordinates")
    assert q.centre.commune.name == "Villeurbanne"                      # the nearest commune
    lba = parse(communes, lat="45.19", lon="5.72")
    assert lba.centre.commune.insee == "38185" and lba.centre.given_by == "coordinates"
    by_insee = parse(communes, insee="69123")
    assert (by_insee.centre.given_by, by_insee.centre.latitude, by_insee.centre.commune.name) == (
        "insee", 45.7549, "Lyon")
    by_postal = parse(communes, postal_code="38100")
    assert (by_postal.centre.given_by, by_postal.centre.commune.name) == ("postal_code", "Grenoble")
    assert parse(communes, zipcode="69100").centre.commune.name == "Villeurbanne"


def test_place_errors(communes):
    assert problems(communes, latitude="45") == [("longitude", "missing")]
    assert problems(communes, longitude="4.8") == [("latitude", "missing")]
    assert problems(communes, latitude="91", longitude="4") == [("latitude", "out_of_range")]
    assert problems(communes, latitude="45", longitude="181") == [("longitude", "out_of_range")]
    # Coordinates with a commune, as La Bonne Alternance required: the coordinates are the centre,
    # the commune names the place (issue 12).
    q = parse(communes, latitude="45.75", longitude="4.84", insee="69123")
    assert (q.centre.latitude, q.centre.longitude, q.centre.given_by) == (45.75, 4.84, "coordinates")
    assert q.centre.commune.insee == "69123"
    assert parse(communes, latitude="45.75", longitude="4.84", postal_code="69001").centre.given_by == "coordinates"
    # The commune given names the place even when the point is nearer another one (Grenoble's point
    # named Lyon stays Lyon; without a commune, the nearest names it).
    at_grenoble = {"latitude": "45.1885", "longitude": "5.7245"}
    assert parse(communes, **at_grenoble, insee="69266").centre.commune.insee == "69266"
    assert parse(communes, **at_grenoble, postal_code="69100").centre.commune.insee == "69266"
    assert parse(communes, **at_grenoble, postal_code="6910").centre.commune.insee == "38185"   # not a code
    assert parse(communes, **at_grenoble, insee="99999").centre.commune.insee == "38185"        # unknown: nearest
    assert parse(communes, **at_grenoble).centre.commune.insee == "38185"
    assert problems(communes, insee="69123", postal_code="69001") == [("postal_code", "conflicting_place")]
    assert problems(communes, insee="99999") == [("insee", "unknown_commune")]
    assert problems(communes, postal_code="00000") == [("postal_code", "unknown_postal_code")]
    assert problems(communes, postal_code="6900") == [("postal_code", "unknown_postal_code")]
    assert problems(communes, zipcode="690011") == [("zipcode", "unknown_postal_code")]


def test_types_and_la_bonne_alternance_sources(communes):
    assert parse(communes, types="recruiters,formations").types == ("formations", "recruiters")
    assert parse(communes, types="").types == TYPES
    assert parse(communes, sources="offres,lba").types == ("offers", "recruiters")
    assert parse(communes, sources="Matcha, LBB").types == ("offers", "recruiters")
    assert parse(communes, sources="formation").types == ("formations",)
    assert parse(communes, sources="offers").types == ("offers",)                  # our names work there too
    assert problems(communes, types="offres") == [("types", "not_allowed")]       # theirs only under `sources`
    assert problems(communes, types=",") == [("types", "empty")]
    assert problems(communes, sources="jobs") == [("sources", "not_allowed")]


def test_diploma_levels(communes):
    assert [parse(communes, diploma=v).diploma for v in ("3", "7", "5 (BTS, DEUST...)", "indifferent", "")] == [
        3, 7, 5, None, None]
    for bad in ("2", "8", "35", "5x", "niveau 5"):
        assert problems(communes, diploma=bad) == [("diploma", "out_of_range")], bad


@pytest.mark.parametrize("name,low,high", [("radius", 1, 200), ("limit", 1, 100), ("page", 1, 50)])
def test_integer_bounds(communes, name, low, high):
    attr = "radius_km" if name == "radius" else name
    assert getattr(parse(communes, **{name: str(low)}), attr) == low
    assert getattr(parse(communes, **{name: str(high)}), attr) == high
    assert problems(communes, **{name: str(low - 1)}) == [(name, "out_of_range")]
    assert problems(communes, **{name: str(high + 1)}) == [(name, "out_of_range")]
    assert problems(communes, **{name: "ten"}) == [(name, "not_an_integer")]


def test_sort_and_unknown_parameters(communes):
    assert [parse(communes, sort=s).sort for s in ("distance", "date", "relevance", "employment")] == [
        "distance", "date", "relevance", "employment"]
    assert problems(communes, sort="nearest") == [("sort", "not_allowed")]
    assert problems(communes, rayon="10") == [("rayon", "unknown_parameter")]


def test_every_problem_is_listed_at_once(communes):
    assert problems(communes, caller="", romes="", radius="0", limit="0") == [
        ("caller", "missing"), ("romes", "missing"), ("radius", "out_of_range"), ("limit", "out_of_range")]


def test_the_cache_key_leaves_the_caller_out_and_rounds_the_centre(communes):
    a = parse(communes, caller="a", latitude="45.770001", longitude="4.89")
    b = parse(communes, caller="b", latitude="45.770004", longitude="4.89")
    assert a.cache_key() == b.cache_key()
    assert (parse(communes, latitude="45.77", longitude="4.890001").cache_key() ==
            parse(communes, latitude="45.77", longitude="4.890004").cache_key())
    assert a.cache_key() == (("D1102",), (45.77, 4.89), 30, TYPES, None, "distance", 20, 1)
    assert parse(communes, latitude="45.77002", longitude="4.89").cache_key() != a.cache_key()
    assert parse(communes).cache_key()[1] is None
    keys = {parse(communes, **p).cache_key() for p in (
        {}, {"radius": "31"}, {"types": "offers"}, {"diploma": "4"}, {"sort": "date"}, {"limit": "5"},
        {"page": "2"}, {"romes": "D1104"})}
    assert len(keys) == 8


# What a webmaster reads: each message names the parameter, echoes a bounded part of the value and
# says how to fix it. Exact, so that a changed or lost word is seen.
MESSAGES = [
    ({"caller": "mon site"}, "« caller » (l'identifiant de votre site) ne peut contenir que des lettres, des "
     "chiffres et les caractères . _ @ - (ex. mon-site.fr)."),
    ({"romes": ""}, "Le paramètre « romes » est obligatoire : 1 à 20 codes ROME séparés par des virgules (ex. "
     "romes=D1102,D1104). Trouvez-les avec /api/v1/metiers?q=boulanger."),
    ({"romes": "D1102,boulanger,xx1,a,b,c,d"}, "« romes » : BOULANGER, XX1, A, B, C n'est pas un code ROME (une "
     "lettre et 4 chiffres, ex. D1102)."),
    ({"romes": "y" * 100}, f"« romes » : {'Y' * 80} n'est pas un code ROME (une lettre et 4 chiffres, ex. D1102)."),
    ({"romes": ",".join(f"D11{i:02d}" for i in range(21))}, "« romes » : 21 codes donnés, 20 au plus."),
    ({"romes": "Z9999,Z9998"}, "« romes » : code(s) ROME inconnu(s) : Z9999, Z9998. Vérifiez-les avec "
     "/api/v1/metiers."),
    ({"romes": "Z9991,Z9992,Z9993,Z9994,Z9995,Z9996"}, "« romes » : code(s) ROME inconnu(s) : Z9991, Z9992, "
     "Z9993, Z9994, Z9995. Vérifiez-les avec /api/v1/metiers."),
    ({"insee": "69123", "postal_code": "69001"}, "« insee » et « postal_code » désignent chacun un lieu : donnez "
     "l'un ou l'autre."),
    ({"insee": "99999999999999"}, "« insee » : aucune commune n'a le code INSEE « 9999999999 » (5 caractères, ex. "
     "69123 pour Lyon ; à ne pas confondre avec le code postal)."),
    ({"postal_code": "123456789012345"}, "« postal_code » : aucune commune n'a le code postal « 1234567890 » (5 "
     "chiffres, ex. 69003)."),
    ({"types": "j" * 40}, f"« types » : « {'j' * 30} » n'est pas un type de résultat ; valeurs possibles : "
     "formations, offers, recruiters (séparées par des virgules)."),
    ({"types": ","}, "« types » : indiquez au moins un type parmi formations, offers, recruiters."),
    ({"diploma": "9 (doctorat, habilitation)"}, "« diploma » : niveau de diplôme de 3 (CAP) à 7 (Master), reçu "
     "« 9 (doctorat, habilitation) »."),
    ({"diploma": "d" * 40}, f"« diploma » : niveau de diplôme de 3 (CAP) à 7 (Master), reçu « {'d' * 30} »."),
]


@pytest.mark.parametrize("params,message", MESSAGES)
def test_error_messages_say_how_to_fix(communes, params, message):
    with pytest.raises(InvalidParameters) as caught:
        parse(communes, **params)
    assert [d.message for d in caught.value.details] == [message]


def test_the_bounds_of_the_caller_and_the_coordinates(communes):
    assert parse(communes, caller="c" * 100).caller == "c" * 100
    assert problems(communes, caller="c" * 101) == [("caller", "too_long")]
    assert parse(communes, latitude="-90", longitude="-180").centre.latitude == -90
    assert problems(communes, latitude="-90.5", longitude="4") == [("latitude", "out_of_range")]
    assert problems(communes, latitude="45", longitude="-180.5") == [("longitude", "out_of_range")]
    for given in ({"insee": "38185"}, {"postal_code": "38000"}):
        centre = parse(communes, **given).centre
        assert (centre.latitude, centre.longitude) == (45.1885, 5.7245), given
