"""The store's geographic query: ROME matching across v3/v4, radius, dedupe, France-wide, both index layouts."""

from __future__ import annotations

import math
import shutil
import sqlite3
from pathlib import Path

import pytest

from widget_server.geo import EARTH_RADIUS_KM, haversine_km
from widget_server.ingest.reference import load_reference
from widget_server.store.database import connect_readonly
from widget_server.store.geo import (ENCODED_FLAG, bounding_box, find_nearby, france_wide, geo_entries,
                                     rome_match_codes)
from widget_server.store.schema import ITEM_KINDS, ITEMS_DDL, REFERENCE_DDL, rome_family
from widget_server.store.writer import index_items, insert_items

LYON = (45.7578, 4.8320)
VILLEURBANNE = (45.7719, 4.8902)
VIENNE = (45.5255, 4.8740)        # ~26 km from LYON
GRENOBLE = (45.1885, 5.7245)      # ~95 km
PARIS = (48.8566, 2.3522)
G1602_FAMILY = {"G1602", "G1606", "G1609", "G1610", "G1613"}   # v3 G1602 and its v4 children


def destination(start: tuple[float, float], km: float, bearing_deg: float) -> tuple[float, float]:
    """The point `km` away from `start` on a great circle with the given bearing."""
    lat1, lon1, b = math.radians(start[0]), math.radians(start[1]), math.radians(bearing_deg)
    d = km / EARTH_RADIUS_KM
    lat2 = math.asin(math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(b))
    lon2 = lon1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(lat1), math.cos(d) - math.sin(lat1) * math.sin(lat2))
    return math.degrees(lat2), math.degrees(lon2)


def recruiter(key: str, at: tuple[float, float], romes: list[str], score: float = 50.0) -> dict:
    return {"key": key, "name": f"Entreprise {key}", "naf": "5610A", "hiring_score": score, "romes": romes,
            "latitude": at[0], "longitude": at[1], "source": "test", "demo": True}


RECRUITERS = [
    recruiter("lyon-v3", LYON, ["G1602"]),                         # 1: tagged with the v3 parent
    recruiter("villeurbanne-v4", VILLEURBANNE, ["G1606"], 80),      # 2: a v4 child
    recruiter("vienne-sibling", VIENNE, ["G1609"]),                # 3: another v4 child
    recruiter("lyon-both", LYON, ["G1606", "G1602"], 70),          # 4: two codes of one family
    recruiter("lyon-two-families", LYON, ["M1602", "G1610"]),      # 5: two families
    recruiter("grenoble", GRENOBLE, ["G1602"]),                    # 6: out of 30 km
    recruiter("paris", PARIS, ["M1602"]),                          # 7
    recruiter("inside", destination(LYON, 29.99, 0), ["K2204"]),   # 8: 10 m inside a 30 km radius
    recruiter("outside", destination(LYON, 30.01, 90), ["K2204"]), # 9: 10 m outside
    recruiter("unknown-code", LYON, ["Z9999", "K2204"]),           # 10: an unknown code is ignored
]


def encoded_index(conn: sqlite3.Connection, kind: str) -> None:
    conn.execute(f"DELETE FROM {kind}_geo")
    conn.executemany(f"INSERT INTO {kind}_geo VALUES (?,?,?,?,?,?,?,?,?)", geo_entries(conn, kind))


@pytest.fixture(scope="module")
def reference_db(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("geo") / "reference.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(REFERENCE_DDL + ITEMS_DDL)
    load_reference(conn, data_dir)
    conn.commit()
    conn.close()
    return path


@pytest.fixture(scope="module", params=["plain", "encoded"])
def conn(request: pytest.FixtureRequest, reference_db: Path) -> sqlite3.Connection:
    """The hand-made dataset, indexed by writer.index_items ("plain") or geo_entries ("encoded")."""
    path = reference_db.with_name(f"{request.param}.sqlite")
    shutil.copy(reference_db, path)
    db = sqlite3.connect(path)
    insert_items(db, "recruiter", RECRUITERS)
    insert_items(db, "offer", [{"key": "o1", "title": "Serveur", "romes": ["G1603"], "contract_nature": "E2",
                                "created_at": "2026-01-01", "latitude": LYON[0], "longitude": LYON[1],
                                "source": "test", "demo": True, "level": 4}])
    for kind in ITEM_KINDS:
        index_items(db, kind)           # the R*Tree and the (rome, item) index France-wide reads
        if request.param == "encoded":
            encoded_index(db, kind)     # the R*Tree rewritten straight from geo_entries()
    db.commit()
    db.close()
    return connect_readonly(path)


def keys(conn: sqlite3.Connection, matches: list[tuple[int, float | None]]) -> list[str]:
    by_id = dict(conn.execute("SELECT id, key FROM recruiter"))
    return [by_id[i] for i, _ in matches]


def test_a_v3_query_code_matches_its_v4_children(conn):
    found = keys(conn, find_nearby(conn, "recruiter", ["G1602"], *LYON, 30))
    assert sorted(found) == sorted(["lyon-v3", "villeurbanne-v4", "vienne-sibling", "lyon-both", "lyon-two-families"])


def test_a_v4_query_code_matches_its_v3_parent_but_not_its_siblings(conn):
    found = keys(conn, find_nearby(conn, "recruiter", ["G1606"], *LYON, 30))
    assert sorted(found) == ["lyon-both", "lyon-v3", "villeurbanne-v4"]
    assert sorted(keys(conn, find_nearby(conn, "recruiter", ["G1609"], *LYON, 30))) == ["lyon-both", "lyon-v3", "vienne-sibling"]


def test_the_radius_is_an_exact_great_circle_distance(conn):
    found = dict(zip(keys(conn, m := find_nearby(conn, "recruiter", ["K2204"], *LYON, 30)), (d for _, d in m)))
    assert "inside" in found and "outside" not in found
    assert found["inside"] == pytest.approx(29.99, abs=0.002)
    assert "outside" in keys(conn, find_nearby(conn, "recruiter", ["K2204"], *LYON, 30.02))


def test_results_are_nearest_first_with_their_distance(conn):
    matches = find_nearby(conn, "recruiter", ["G1602"], *LYON, 30)
    distances = [d for _, d in matches]
    assert distances == sorted(distances)
    points = {i: (lat, lon) for i, lat, lon in conn.execute("SELECT id, latitude, longitude FROM recruiter")}
    for item_id, d in matches:
        assert d == pytest.approx(haversine_km(*LYON, *points[item_id]), abs=0.002)
    # Items at the same point come in id order.
    same_point = [i for i, d in matches if d < 0.001]
    assert same_point == sorted(same_point) and len(same_point) == 3


def test_each_item_comes_once_whatever_codes_it_matches_by(conn):
    matches = find_nearby(conn, "recruiter", ["M1602", "G1602", "G1610"], *LYON, 30)
    ids = [i for i, _ in matches]
    assert len(ids) == len(set(ids))
    assert keys(conn, matches).count("lyon-two-families") == 1
    assert keys(conn, matches).count("lyon-both") == 1


def test_france_wide_has_no_distance_and_comes_by_id(conn):
    matches = find_nearby(conn, "recruiter", ["G1602", "M1602"], None, None, None)
    assert [d for _, d in matches] == [None] * len(matches)
    assert [i for i, _ in matches] == sorted(i for i, _ in matches)
    assert set(keys(conn, matches)) >= {"grenoble", "paris", "lyon-v3", "lyon-two-families"}
    assert len(matches) == 7


def ids_of(conn: sqlite3.Connection, *names: str) -> list[int]:
    by_key = dict(conn.execute("SELECT key, id FROM recruiter"))
    return [by_key[n] for n in names]


def test_france_wide_counts_every_match_once_and_gives_the_first_ids(conn):
    family = ids_of(conn, "lyon-v3", "villeurbanne-v4", "vienne-sibling", "lyon-both", "lyon-two-families", "grenoble")
    # "lyon-both" carries two codes of the family: counted once.
    assert france_wide(conn, "recruiter", ["G1602"], 100) == (6, sorted(family))
    assert france_wide(conn, "recruiter", ["G1602"], 2) == (6, sorted(family)[:2])
    # A v4 code: itself and its v3 parent, not its siblings.
    assert france_wide(conn, "recruiter", ["G1606"], 10) == (
        4, sorted(ids_of(conn, "lyon-v3", "villeurbanne-v4", "lyon-both", "grenoble")))
    assert france_wide(conn, "recruiter", ["G1606", "M1602"], 10)[0] == 6


def test_france_wide_with_a_condition_and_an_order(conn):
    assert france_wide(conn, "recruiter", ["G1602"], 10, where="i.hiring_score >= ?", params=(70,)) == (
        2, sorted(ids_of(conn, "villeurbanne-v4", "lyon-both")))
    # Best score first, then ids break the ties among the four at 50.
    ties = sorted(ids_of(conn, "lyon-v3", "vienne-sibling", "lyon-two-families", "grenoble"))
    assert france_wide(conn, "recruiter", ["G1602"], 10, order_by="i.hiring_score DESC") == (
        6, ids_of(conn, "villeurbanne-v4", "lyon-both") + ties)
    assert france_wide(conn, "recruiter", ["G1602"], 3, order_by="-i.hiring_score") == (
        6, ids_of(conn, "villeurbanne-v4", "lyon-both") + ties[:1])
    assert france_wide(conn, "recruiter", ["G1602"], 10, where="i.hiring_score < ?", params=(70,),
                       order_by="i.hiring_score DESC") == (4, ties)


def test_france_wide_unknown_codes_and_kinds(conn):
    assert france_wide(conn, "recruiter", ["Z9999"], 10) == (0, [])
    assert france_wide(conn, "recruiter", [], 10) == (0, [])
    with pytest.raises(ValueError, match="unknown item kind"):
        france_wide(conn, "recruiter; DROP TABLE x", ["G1602"], 10)


def test_a_point_without_radius_gives_every_match_with_its_distance(conn):
    matches = find_nearby(conn, "recruiter", ["M1602"], *LYON, None)
    assert keys(conn, matches) == ["lyon-two-families", "paris"]
    assert matches[1][1] == pytest.approx(haversine_km(*LYON, *PARIS), abs=0.002)


def test_an_extra_condition_on_the_item_table(conn):
    found = keys(conn, find_nearby(conn, "recruiter", ["G1602"], *LYON, 30, where="i.hiring_score >= ?", params=(70,)))
    assert sorted(found) == ["lyon-both", "villeurbanne-v4"]
    assert find_nearby(conn, "offer", ["G1603"], *LYON, 10, where="i.level = ?", params=(4,))[0][0] == 1
    assert find_nearby(conn, "offer", ["G1603"], *LYON, 10, where="i.level = ?", params=(5,)) == []


def test_unknown_codes_and_kinds(conn):
    assert find_nearby(conn, "recruiter", ["Z9999"], *LYON, 30) == []
    assert find_nearby(conn, "recruiter", [], *LYON, 30) == []
    assert keys(conn, find_nearby(conn, "recruiter", ["Z9999", "K2204"], *LYON, 1)) == ["unknown-code"]
    with pytest.raises(ValueError, match="unknown item kind 'recruiter_geo; DROP TABLE x'"):
        find_nearby(conn, "recruiter_geo; DROP TABLE x", ["G1602"], *LYON, 30)
    with pytest.raises(ValueError, match="unknown item kind 'formations'"):
        list(geo_entries(conn, "formations"))


def test_nearest_first_when_id_order_says_otherwise(conn):
    # ids 8, 9, 10 at 29.99, 30.01 and 0 km: distinct distances, ids in the opposite order.
    matches = find_nearby(conn, "recruiter", ["K2204"], *LYON, 40)
    assert keys(conn, matches) == ["unknown-code", "inside", "outside"]


def test_items_at_one_point_come_by_id_whichever_family_matched_them(conn):
    # Families are probed in order (K before M): "unknown-code" (id 10, K2204) is found before
    # "lyon-two-families" (id 5, M1602), both at LYON; the answer still puts id 5 first.
    matches = find_nearby(conn, "recruiter", ["M1602", "K2204"], *LYON, 30)
    assert keys(conn, matches) == ["lyon-two-families", "unknown-code", "inside"]


def test_the_radius_is_inclusive(conn):
    # An item exactly at the radius (the distance the query itself computes) is within it.
    exact = dict(find_nearby(conn, "recruiter", ["K2204"], *LYON, None))
    inside = ids_of(conn, "inside")[0]
    assert inside in dict(find_nearby(conn, "recruiter", ["K2204"], *LYON, exact[inside]))
    assert inside not in dict(find_nearby(conn, "recruiter", ["K2204"], *LYON, exact[inside] - 1e-6))


def test_rome_match_codes(conn):
    assert rome_match_codes(conn, ["G1602"]) == {rome_family("G1602"): G1602_FAMILY}
    assert rome_match_codes(conn, ["G1606"]) == {rome_family("G1602"): {"G1606", "G1602"}}
    assert rome_match_codes(conn, ["G1606", "G1609", "M1602", "Z9999"]) == {
        rome_family("G1602"): {"G1606", "G1609", "G1602"}, rome_family("M1602"): {"M1602"}}


def test_encoded_entries_carry_item_and_code_in_their_id(conn):
    rows = conn.execute("SELECT id, fam_min, item_id, rome FROM recruiter_geo").fetchall()
    assert len(rows) == sum(len([c for c in r["romes"] if c != "Z9999"]) for r in RECRUITERS)
    encoded = [r for r in rows if r[0] >= ENCODED_FLAG]
    # writer.index_items writes geo_entries() too now: every entry is encoded (the loop below
    # would otherwise check nothing).
    assert encoded == rows
    for entry_id, family, item_id, rome in encoded:
        assert (entry_id >> 19) & ((1 << 43) - 1) == item_id
        assert entry_id & ((1 << 19) - 1) == rome_family(rome)
        assert family == rome_family(conn.execute("SELECT parent FROM rome WHERE code = ?", (rome,)).fetchone()[0])


def test_geo_entries_are_sorted_by_family_then_place(conn):
    entries = list(geo_entries(conn, "recruiter"))
    # By family, then half-degree latitude band, then longitude: what keeps R*Tree nodes tight.
    order = [(e[1], math.floor(e[3] * 2), e[5]) for e in entries]
    assert order == sorted(order)
    g1602 = [e[7] for e in entries if e[1] == rome_family("G1602")]
    # Grenoble (band 90) before the Lyon area (band 91), which comes west to east.
    assert g1602[0] == ids_of(conn, "grenoble")[0]
    assert g1602[-1] == ids_of(conn, "villeurbanne-v4")[0]
    for entry_id, _, _, _, _, _, _, item_id, rome in entries:
        assert entry_id == ENCODED_FLAG | item_id << 19 | rome_family(rome)


def _holds(box: tuple[float, float, float, float], point: tuple[float, float]) -> bool:
    lon = (point[1] + 180) % 360 - 180       # stored longitudes are within [-180, 180)
    return box[0] <= point[0] <= box[1] and box[2] <= lon <= box[3]


@pytest.mark.parametrize("lat,radius", [(-21.1, 30), (0.0, 30), (0.0, 200), (45.76, 30), (48.86, 5),
                                        (70.0, 30), (87.8, 200), (89.5, 10)])
def test_the_bounding_box_holds_the_disc(lat, radius):
    box = bounding_box(lat, 2.0, radius)
    for bearing in range(0, 360, 3):
        # Points exactly at the radius are within it (find_nearby's filter is inclusive).
        assert _holds(box, destination((lat, 2.0), radius, bearing)), bearing


@pytest.mark.parametrize("lat", [-21.1, 0.0, 45.76, 70.0])
def test_the_bounding_box_is_no_wider_than_the_disc_needs(lat):
    lat_min, lat_max, lon_min, lon_max = bounding_box(lat, 2.0, 30)
    north, south = destination((lat, 2.0), 30, 0)[0], destination((lat, 2.0), 30, 180)[0]
    assert lat_max - north == pytest.approx(1e-5, abs=2e-6) and south - lat_min == pytest.approx(1e-5, abs=2e-6)
    widest = max(destination((lat, 2.0), 30, b)[1] for b in range(0, 181))
    assert widest < lon_max < widest + 0.05 * (widest - 2.0)      # within 5 % of the disc's own width
    assert lon_max - 2.0 == pytest.approx(2.0 - lon_min)


def test_a_disc_over_the_pole_takes_every_longitude():
    assert bounding_box(89.99, 2.0, 5)[2:] == (-180.0, 180.0)
    # Just short of the pole but wider than the whole circle: every longitude too.
    assert bounding_box(87.8, 2.0, 200)[2:] == (-180.0, 180.0)


def test_the_widest_box_short_of_the_whole_circle_takes_every_longitude():
    # The latitude at which a 200 km box reaches 180.5 degrees each side (bisection): a box
    # [-178.5, 182.5] would miss longitudes west of -178.5 that the disc reaches.
    low, high = 80.0, 89.8 - 200 / (math.pi * EARTH_RADIUS_KM / 180)
    for _ in range(80):
        mid = (low + high) / 2
        widest = mid + 200 / (math.pi * EARTH_RADIUS_KM / 180)
        half_width = 200 / (math.pi * EARTH_RADIUS_KM / 180 * math.cos(math.radians(widest)))
        low, high = (mid, high) if half_width < 180.5 else (low, mid)
    assert bounding_box(low, 2.0, 200)[2:] == (-180.0, 180.0)


def test_the_default_dataset_agrees_with_a_brute_force_scan(dataset_path):
    """On the real default dataset: the R*Tree query returns exactly what a full scan finds."""
    db = connect_readonly(dataset_path)
    parents = dict(db.execute("SELECT code, parent FROM rome"))
    for kind, code, centre, radius in [("recruiter", "G1602", LYON, 30), ("recruiter", "D1106", VIENNE, 15),
                                       ("offer", "D1106", PARIS, 30), ("formation", "M1607", LYON, 50),
                                       ("formation", "I1604", GRENOBLE, 60)]:
        allowed = {c for c, p in parents.items() if c == code or p == code or c == parents[code]}
        expected = {}
        for item_id, romes, lat, lon in db.execute(f"SELECT id, romes, latitude, longitude FROM {kind}"):
            d = haversine_km(*centre, lat, lon)
            if d <= radius and allowed & set(romes.split(",")):
                expected[item_id] = d
        found = find_nearby(db, kind, [code], *centre, radius)
        assert {i for i, _ in found} == set(expected), (kind, code)
        assert expected, (kind, code)   # the default dataset has results for these common cases
        for item_id, d in found:
            assert d == pytest.approx(expected[item_id], abs=0.002)
