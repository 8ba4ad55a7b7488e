"""The merged national catalogue: the matching rules on hand-made cases, and what the build serves.

The rules are in widget_server/ingest/catalogue/merge.py and docs/catalogue.md; each
case below is one line of the table in docs/catalogue.md.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from widget_server.ingest.catalogue.record import TrainingRecord
from widget_server.ingest.catalogue.step import Catalogue
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import RowReport

MERCUREY, CHALON = "71294", "71076"
CFA = "31405708400027"            # CIFA Lameloise (trainer and manager)
CFA_OTHER_SITE = "31405708400035"  # same company (SIREN 314057084), another establishment
OTHER_CFA = "77567227200015"
BTS_MCO = dict(certif="104239", cfd="32031213", rncp="RNCP34031")
CAP_PATISSIER_2020 = dict(cfd="50022136")      # replaced by CFD 50022141 / Certif Info 106291
CAP_PATISSIER_NEW = dict(certif="106291")
CAP_BOULANGER = dict(cfd="50022137")


@pytest.fixture(scope="module")
def catalogue(dataset_path: Path, data_dir: Path) -> Catalogue:
    conn = sqlite3.connect(f"file:{dataset_path}?mode=ro", uri=True)
    try:
        return Catalogue.load(conn, data_dir, Referentials(conn))
    finally:
        conn.close()


def record(source: str = "rco_2020_11", source_id: str = "1", *, insee: str = MERCUREY, trainer: str = CFA,
           year: int = 2020, line: int = 2, **fields) -> TrainingRecord:
    return TrainingRecord(source=source, year=year, source_id=source_id, line=line, trainer_siret=trainer,
                          insee=insee, **fields)


def merged(catalogue: Catalogue, *records: TrainingRecord) -> list[dict]:
    rows, _ = catalogue.rows(list(records), RowReport("test"))
    return rows


def source_ids(row: dict) -> set[str]:
    return {f"{s['source']}:{i}" for s in json.loads(row["sources"]) for i in s["ids"]}


# ---------------------------------------------------------------- one training is one card

def test_two_intakes_of_one_training_are_one_card_listing_both_months(catalogue) -> None:
    rows = merged(catalogue, record(source_id="a", months=(9,), **BTS_MCO),
                  record(source_id="b", months=(1,), line=3, **BTS_MCO))
    assert len(rows) == 1
    assert rows[0]["intake_months"] == "1,9"
    assert source_ids(rows[0]) == {"rco_2020_11:a", "rco_2020_11:b"}


def test_the_same_training_in_two_sources_is_one_card_named_after_the_newest(catalogue) -> None:
    rows = merged(catalogue,
                  record("rco_2020_06", "af-1", title="BTS MCO", months=(9,), **BTS_MCO),
                  record("onisep_2023", "key-1", year=2023, onisep_id="AF.1234", catalogue_key="104239P01-key",
                         certif="104239"))
    assert len(rows) == 1
    row = rows[0]
    assert row["key"] == "onisep_2023:key-1"
    assert row["onisep_ids"] == "AF.1234" and row["catalogue_keys"] == "104239P01-key"
    assert row["years"] == "2020,2023"
    assert source_ids(row) == {"rco_2020_06:af-1", "onisep_2023:key-1"}


def test_another_establishment_of_the_same_company_in_the_same_commune_is_the_same_training(catalogue) -> None:
    assert len(merged(catalogue, record(source_id="a", **BTS_MCO),
                      record(source_id="b", trainer=CFA_OTHER_SITE, **BTS_MCO))) == 1


def test_a_replaced_diploma_and_its_successor_are_one_training(catalogue) -> None:
    rows = merged(catalogue, record("rco_2020_11", "old", **CAP_PATISSIER_2020),
                  record("onisep_2023", "new", year=2023, **CAP_PATISSIER_NEW))
    assert len(rows) == 1 and rows[0]["key"] == "onisep_2023:new"
    assert "D1104" in rows[0]["romes"]   # a list before it is written


def test_a_uai_only_record_joins_the_training_of_that_uai(catalogue) -> None:
    rows = merged(catalogue, record(source_id="a", trainer_uai="0711078L", **BTS_MCO),
                  record("parcoursup_2020", "p", trainer="", trainer_uai="0711078L", cfd="32031213"))
    assert len(rows) == 1 and len(source_ids(rows[0])) == 2


# ---------------------------------------------------------------- and different trainings stay apart

def test_the_same_diploma_in_another_commune_is_another_training(catalogue) -> None:
    assert len(merged(catalogue, record(source_id="a", **BTS_MCO),
                      record(source_id="b", insee=CHALON, **BTS_MCO))) == 2


def test_the_same_diploma_by_another_organisation_is_another_training(catalogue) -> None:
    assert len(merged(catalogue, record(source_id="a", **BTS_MCO),
                      record(source_id="b", trainer=OTHER_CFA, **BTS_MCO))) == 2


def test_two_diplomas_at_one_site_are_two_trainings(catalogue) -> None:
    rows = merged(catalogue, record(source_id="a", **CAP_BOULANGER), record(source_id="b", **CAP_PATISSIER_2020))
    assert len(rows) == 2
    assert {r["title"] for r in rows} == {"CAP Boulanger", "CAP Patissier"}


def test_a_record_with_no_known_diploma_is_rejected_with_its_line(catalogue) -> None:
    report = RowReport("test")
    rows, _ = catalogue.rows([record(source_id="x", line=7, certif="999999999")], report)
    assert rows == []
    assert [(r.line, r.reason) for r in report.rejects] == [(7, "no_title")]


def test_merging_is_deterministic_whatever_the_input_order(catalogue) -> None:
    records = [record(source_id=str(i), line=i, months=(i % 12 + 1,), **(BTS_MCO if i % 2 else CAP_BOULANGER))
               for i in range(2, 12)]
    assert merged(catalogue, *records) == merged(catalogue, *reversed(records))


# ---------------------------------------------------------------- the built catalogue

@pytest.fixture(scope="module")
def meta(dataset_path: Path) -> dict[str, str]:
    conn = sqlite3.connect(f"file:{dataset_path}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT key, value FROM meta"))
    finally:
        conn.close()


def test_the_built_catalogue_covers_the_real_sources(meta) -> None:
    assert 30_000 <= int(meta["catalogue.trainings"]) <= 45_000
    assert float(meta["catalogue.share_with_rome"]) >= 0.95
    assert float(meta["catalogue.share_with_outcomes"]) >= 0.8
    assert float(meta["catalogue.share_exact_position"]) >= 0.5
    assert int(meta["catalogue.rco_2020_11.read"]) == 39_510
    assert int(meta["catalogue.onisep_2023.read"]) >= 35_000
    by_sources = json.loads(meta["catalogue.by_sources"])
    # Over a third of the trainings are seen by several sources (2020 and 2023 differ a lot:
    # 12,496 trainings are only in 2023, 8,837 only in the November 2020 catalogue).
    assert sum(n for combo, n in by_sources.items() if "+" in combo) > 0.35 * int(meta["catalogue.trainings"])


def test_every_served_training_is_real_placed_and_has_its_sources(dataset_path: Path) -> None:
    conn = sqlite3.connect(f"file:{dataset_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT key, sources, precision, latitude, demo, intake_months FROM formation"
                            " WHERE source = 'catalogue'").fetchall()
    finally:
        conn.close()
    assert rows
    for key, sources, precision, latitude, demo, months in rows:
        assert demo == 0 and latitude is not None and precision in ("site", "organisation", "commune"), key
        assert json.loads(sources), key
        assert months is None or all(1 <= int(m) <= 12 for m in months.split(",")), key
