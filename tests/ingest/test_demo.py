"""Demo offers, recruiters and formations: deterministic, flagged, and faithful to the rules they imitate."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from widget_server.ingest.demo import step as demo
from widget_server.ingest.demo.common import fake_siret, luhn_check_digit, luhn_valid, reference_date, rng_for
from widget_server.ingest.demo.formations import generate_formations
from widget_server.ingest.demo.recruiters import THRESHOLD, short_trade
from widget_server.ingest.reference import load_reference
from widget_server.ingest.referentials import Referentials
from widget_server.store.database import connect_readonly
from widget_server.store.schema import ITEMS_DDL, REFERENCE_DDL


def table_digest(conn: sqlite3.Connection, *tables: str) -> str:
    digest = hashlib.sha256()
    for table in tables:
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY id"):
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def reference_db(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "reference.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(REFERENCE_DDL + ITEMS_DDL)
    load_reference(conn, data_dir)
    conn.commit()
    conn.close()
    return path


def run_demo(reference_db: Path, data_dir: Path, name: str, day: str) -> tuple[str, dict[str, str]]:
    path = reference_db.with_name(name)
    shutil.copy(reference_db, path)
    conn = sqlite3.connect(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WIDGET_DEMO_DATE", day)
        meta = demo.build_step(conn, data_dir, Referentials(conn), "default")
    digest = table_digest(conn, "recruiter", "offer", "formation")
    conn.close()
    return digest, meta


def test_same_inputs_and_date_give_the_same_rows(reference_db, data_dir):
    first, meta = run_demo(reference_db, data_dir, "a.sqlite", "2026-01-15")
    second, _ = run_demo(reference_db, data_dir, "b.sqlite", "2026-01-15")
    assert first == second
    assert meta["reference_date"] == "2026-01-15"
    assert meta["recruiters"] == "30000" and meta["offers"] == "6000" and meta["formations"] == "0"
    assert float(meta["threshold"]) == THRESHOLD and meta["seed"] == demo.SEED
    # Another day moves the offers' dates, nothing else.
    other, _ = run_demo(reference_db, data_dir, "c.sqlite", "2026-03-01")
    assert other != first


def test_the_reference_date_is_today_unless_fixed(monkeypatch):
    monkeypatch.delenv("WIDGET_DEMO_DATE", raising=False)
    assert reference_date() == dt.datetime.now(dt.timezone.utc).date()
    monkeypatch.setenv("WIDGET_DEMO_DATE", "2025-09-01")
    assert reference_date() == dt.date(2025, 9, 1)
    monkeypatch.setenv("WIDGET_DEMO_DATE", "01/09/2025")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        reference_date()


@pytest.fixture(scope="module")
def db(dataset_path: Path) -> sqlite3.Connection:
    return connect_readonly(dataset_path)


def test_every_generated_row_is_flagged_and_real_formations_are_not(db):
    for kind in ("offer", "recruiter"):
        assert db.execute(f"SELECT count(*) FROM {kind} WHERE demo != 1 OR source != 'demo'").fetchone() == (0,)
        assert db.execute(f"SELECT count(*) FROM {kind}").fetchone()[0] > 1000
    assert db.execute("SELECT count(*) FROM formation WHERE demo = 1").fetchone() == (0,)   # default scale
    assert db.execute("SELECT count(*) FROM recruiter WHERE url IS NOT NULL OR phone IS NOT NULL"
                      " OR (email IS NOT NULL AND email NOT LIKE '%@exemple.invalid')").fetchone() == (0,)
    names = [r[0] for r in db.execute("SELECT name FROM recruiter")]
    assert all(" Démo " in n for n in names)
    meta = dict(db.execute("SELECT key, value FROM meta"))
    assert meta["demo.recruiters"] == meta["count.recruiter.demo"] == meta["count.recruiter"]


def test_recruiters_carry_the_rome_codes_the_prediction_rule_gives(db):
    shares: dict[str, list[tuple[str, float]]] = {}
    for naf, rome, share in db.execute("SELECT naf, rome, share FROM naf_rome"):
        shares.setdefault(naf, []).append((rome, share))
    sizes = Counter()
    for key, naf, score, romes in db.execute("SELECT key, naf, hiring_score, romes FROM recruiter"):
        assert 0 <= score <= 100
        ranked = shares.get(naf, [])
        expected = sorted((r for r, s in ranked if score / 100 * s >= THRESHOLD), key=lambda r: (-dict(ranked)[r], r))
        codes = romes.split(",")
        # The métier the market drew it for first, then the rule's codes in their order.
        assert codes[1:] == [r for r in expected if r != codes[0]], key
        sizes[len(codes)] += 1
    assert 0 not in sizes
    total = sum(sizes.values())
    assert sum(n for k, n in sizes.items() if k <= 6) / total >= 0.9     # "typically 1 to 6 codes"


def test_recruiters_are_placed_in_real_communes(db, data_dir):
    communes = {insee: (lat, lon, postal) for insee, lat, lon, postal in
                db.execute("SELECT insee, latitude, longitude, postal_codes FROM commune")}
    bands = {r[0] for r in db.execute("SELECT DISTINCT size_band FROM recruiter")}
    assert bands <= set(demo.size_bands(data_dir)) and len(bands) >= 8
    for key, insee, postal, lat, lon in db.execute(
            "SELECT key, insee, postal_code, latitude, longitude FROM recruiter"):
        clat, clon, postals = communes[insee]
        assert postal in postals.split()
        assert abs(lat - clat) <= 0.0501 and abs(lon - clon) * math.cos(math.radians(clat)) <= 0.0501, key
    # Weighted by the real offers: Paris holds about 4 % of them.
    paris = db.execute("SELECT count(*) FROM recruiter WHERE insee LIKE '751%'").fetchone()[0]
    assert 0.025 < paris / 30000 < 0.06


def _correlation(a: dict[str, float], b: dict[str, float]) -> float:
    keys = sorted(set(a) | set(b))
    xs, ys = [a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    return cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


def test_demo_records_follow_the_real_offers_by_place_and_metier(db):
    real_by_department = dict(db.execute(
        "SELECT substr(c.insee, 1, 2), sum(m.offers) FROM market_offer m JOIN commune c ON c.id = m.commune_id"
        " GROUP BY 1"))
    for table in ("offer", "recruiter"):
        demo_by_department = dict(db.execute(f"SELECT substr(insee, 1, 2), count(*) FROM {table} GROUP BY 1"))
        assert _correlation(real_by_department, demo_by_department) > 0.95, table
    real_by_rome = dict(db.execute("SELECT rome, sum(offers) FROM market_offer GROUP BY rome"))
    demo_by_rome = dict(db.execute("SELECT romes, count(*) FROM offer GROUP BY romes"))
    assert _correlation(real_by_rome, demo_by_rome) > 0.9
    # No demo record where the real market has no offer at all.
    with_offers = {insee for (insee,) in db.execute(
        "SELECT DISTINCT c.insee FROM market_offer m JOIN commune c ON c.id = m.commune_id")}
    cities = {"75056": "751", "69123": "693", "13055": "132"}
    for (insee,) in db.execute("SELECT DISTINCT insee FROM recruiter"):
        assert insee in with_offers or any(insee.startswith(p) and city in with_offers
                                           for city, p in cities.items()), insee


def test_a_recruiter_does_what_its_main_metier_needs(db, data_dir):
    from widget_server.ingest.demo.market_shape import MarketShape

    shape = MarketShape(db, data_dir, [])
    rows = db.execute("SELECT key, naf, romes FROM recruiter").fetchall()
    fits = sum(1 for _, naf, romes in rows if naf[:2] in shape.allowed_divisions(romes.split(",")[0]))
    assert fits / len(rows) > 0.97


def test_offers_are_recent_and_come_from_recruiters(db):
    meta = dict(db.execute("SELECT key, value FROM meta"))
    today = dt.date.fromisoformat(meta["demo.reference_date"])
    recruiters = {key: (name, siret, naf, romes.split(","), lat, lon) for key, name, siret, naf, romes, lat, lon in
                  db.execute("SELECT key, name, siret, naf, romes, latitude, longitude FROM recruiter")}
    titles: dict[str, set[str]] = {}
    for label, rome, parent in db.execute(
            "SELECT a.label, a.rome, r.parent FROM appellation a JOIN rome r ON r.code = a.rome"):
        titles.setdefault(rome, set()).add(label)
        titles.setdefault(parent, set()).add(label)
    natures = Counter()
    for row in db.execute("SELECT key, title, romes, contract_nature, contract_type, created_at, start_date,"
                          " duration_months, level, company_name, company_siret, naf, recruiter_key,"
                          " latitude, longitude, url FROM offer"):
        key, title, rome, nature, ctype, created, start, months, level, company, siret, naf, rkey, lat, lon, url = row
        assert key.startswith("demo-offer-") and url is None
        created_on = dt.date.fromisoformat(created)
        assert today - dt.timedelta(days=59) <= created_on <= today, key
        assert dt.date.fromisoformat(start) > created_on
        assert 6 <= months <= 36 and ctype == "CDD" and (level is None or 3 <= level <= 7)
        natures[nature] += 1
        name, r_siret, r_naf, r_romes, r_lat, r_lon = recruiters[rkey]
        assert (company, siret, naf) == (name, r_siret, r_naf)
        assert rome in r_romes
        assert title in titles[rome], (key, title, rome)
        assert abs(lat - r_lat) <= 0.01 and abs(lon - r_lon) <= 0.01
    assert set(natures) == {"E2", "FS"} and natures["E2"] > 3 * natures["FS"]


def test_sirets_pass_the_luhn_checksum(db):
    for (siret,) in db.execute("SELECT siret FROM recruiter UNION ALL SELECT company_siret FROM offer"):
        assert len(siret) == 14 and luhn_valid(siret), siret
    assert luhn_valid("73282932000074") and not luhn_valid("73282932000075")
    assert luhn_check_digit("7328293200007") == "4"
    rng = rng_for("test")
    assert all(luhn_valid(fake_siret(rng)) for _ in range(1000))


def test_national_formations_clone_real_sites_elsewhere(dataset_path, tmp_path):
    path = tmp_path / "copy.sqlite"
    shutil.copy(dataset_path, path)
    conn = sqlite3.connect(path)
    real = conn.execute("SELECT count(*) FROM formation").fetchone()[0]
    added = generate_formations(conn, rng_for("formations"), Referentials(conn), real + 300)
    assert added == 300
    rows = conn.execute("SELECT key, title, romes, cfd, centre_name, centre_siret, insee, demo, source"
                        " FROM formation WHERE demo = 1 ORDER BY id").fetchall()
    assert len(rows) == 300
    real_titles = {(t, r, c) for t, r, c in conn.execute("SELECT title, romes, cfd FROM formation WHERE demo = 0")}
    for key, title, romes, cfd, centre, siret, insee, flag, source in rows:
        assert key.startswith("demo-formation-") and flag == 1 and source == "demo"
        assert (title, romes, cfd) in real_titles
        assert centre.startswith("CFA Démo ") and luhn_valid(siret)
        assert romes
    assert len({r[4] for r in rows}) > 10           # several generated centres
    assert generate_formations(conn, rng_for("formations"), Referentials(conn), real) == 0
    conn.close()


@pytest.mark.parametrize("label, expected", [
    ("Restauration traditionnelle", "Restauration traditionnelle"),
    ("Commerce de gros (commerce interentreprises) d'ordinateurs", "Commerce de gros"),
    ("Activités de poste dans le cadre d'une obligation de service universel", "Activités de poste"),
    ("Fabrication de machines pour les industries textiles", "Fabrication de machines"),
])
def test_recruiter_names_use_a_short_trade(label, expected):
    assert short_trade(label) == expected
