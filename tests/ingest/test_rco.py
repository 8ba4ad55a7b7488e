"""The real 2020 apprenticeship offer (RCO extract): coverage, mapping, rejects, determinism."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from widget_server.ingest.files import read_csv, resolve
from widget_server.ingest.readers.rco_2020_06 import RCO_FILE, DiplomaLinks, parse_rco
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import ImportFailed

MERCUREY_KEY = "rco:27:59049:67811:104239"   # CSV line 2413: BTS MCO at the CIFA Lameloise


@pytest.fixture(scope="module")
def refs(dataset_path: Path) -> Referentials:
    conn = sqlite3.connect(f"file:{dataset_path}?mode=ro", uri=True)
    try:
        return Referentials(conn)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def links(data_dir: Path, refs: Referentials) -> DiplomaLinks:
    return DiplomaLinks.load(data_dir, refs)


@pytest.fixture(scope="module")
def parsed(data_dir: Path, refs: Referentials, links: DiplomaLinks):
    return parse_rco(resolve(data_dir, RCO_FILE), refs, links=links)


@pytest.fixture(scope="module")
def by_key(parsed) -> dict[str, dict]:
    return {r["key"]: r for r in parsed[0]}


@pytest.fixture(scope="module")
def real_rows(data_dir: Path) -> list[dict[str, str]]:
    return list(read_csv(resolve(data_dir, RCO_FILE)))


def test_coverage_targets_on_the_real_file(parsed) -> None:
    records, report = parsed
    assert report.read == 7470
    assert report.kept == len(records) == report.read - len(report.rejects)
    assert all(r["latitude"] is not None and r["longitude"] is not None for r in records)
    assert len(records) / report.read >= 0.95
    assert sum(1 for r in records if r["romes"]) / report.read >= 0.85
    # Every row without ROME codes is counted under a reason.
    without = sum(v for k, v in report.notes.items() if k.startswith("no_rome:"))
    assert without == sum(1 for r in records if not r["romes"])
    # The file repeats one row verbatim (lines 520 and 521): the copy is dropped, not fatal.
    assert [(r.line, r.reason) for r in report.rejects] == [(521, "duplicate")]


def test_records_are_well_formed(parsed, refs: Referentials) -> None:
    records, _ = parsed
    assert len({r["key"] for r in records}) == len(records)
    for r in records:
        assert r["title"] and r["title"] == " ".join(r["title"].split())
        assert r["level"] is None or 3 <= r["level"] <= 7
        assert all(refs.is_rome(code) for code in r["romes"])
        assert r["insee"] in refs.places
        assert r["source"] == "rco" and r["demo"] is False and r["address"] is None


def test_a_known_row_field_by_field(by_key) -> None:
    r = by_key[MERCUREY_KEY]
    assert r["title"] == "BTS management commercial opérationnel"
    assert r["diploma_label"] == "management commercial opérationnel"
    assert r["diploma_type"] == "Brevet de technicien supérieur"
    assert r["level"] == 5
    assert (r["cfd"], r["rncp"]) == ("32031213", "RNCP34031")
    assert r["romes"] == ["D1401", "D1501", "D1506", "M1704", "M1705"]
    assert r["centre_name"] == "CENTRE INTERPROFESSIONNEL DE FORMATION D'APPRENTIS JEAN LAMELOISE (CIFA LAMELOISE)"
    assert r["centre_siret"] == r["trainer_siret"] == "31405708400027"
    assert (r["postal_code"], r["insee"], r["city"]) == ("71640", "71294", "Mercurey")
    assert r["latitude"] == pytest.approx(46.834, abs=0.01) and r["longitude"] == pytest.approx(4.723, abs=0.01)
    assert (r["entry_periods"], r["hours"], r["capacity"]) == ("9", 1350, None)


def test_replaced_diploma_gets_the_rome_codes_of_its_successor(parsed, real_rows) -> None:
    # CAP pâtissier 50022136 (2020) has no ROME in Certif Info 2024; its successor does.
    line = next(i for i, row in enumerate(real_rows, 2) if row["Code scolarité"] == "50022136")
    record = next(r for r in parsed[0] if r["cfd"] == "50022136")
    assert "D1104" in record["romes"], line
    assert parsed[1].notes["rome_via:successor"] > 0


def test_former_insee_code_resolves_to_todays_commune(by_key) -> None:
    # Line 1789: INSEE 22247 (Pommerit-Jaudy) merged into La Roche-Jaudy (22264) in 2019.
    r = by_key["rco:53:1201475:1201475:94449"]
    assert (r["insee"], r["city"], r["postal_code"]) == ("22264", "La Roche-Jaudy", "22450")


def _write(path: Path, header: list[str], rows: list[dict[str, str]], delimiter: str = ",",
           encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture()
def broken_csv(tmp_path: Path, real_rows) -> tuple[Path, list[str], list[dict[str, str]]]:
    header = list(real_rows[0])
    good = next(r for r in real_rows if r["numeroAf"] == "59049")
    rows = [
        good,                                                                   # line 2
        {**good, "numeroAf": "X1", "code INSEE lieu": "99999", "code postal lieu": "99999"},  # 3
        {**good, "numeroAf": "X2", "Nom de la formation": "BTS\nsur deux lignes",        # 4-5
         "code INSEE lieu": "06916", "code postal lieu": "06560"},
        {**good, "numeroAf": ""},                                               # 6
        good,                                                                   # 7
        {**good, "nombre total d''heures de AF--<nombre-heures-total>": "1400"},  # 8
        {**good, "numeroAf": "X3", "code INSEE lieu": "22247", "code-CERTIFINFO": "",  # 9
         "Code scolarité": "", "code-RNCP--<code-RNCP>": "", "code niveau européen": "",
         "code niveau EN": "5", "Capacité d'accueil de la formation--pas Lheo": "10.5"},
        {**good, "numeroAf": "X4", "Nom de la formation": " ", "Intitulé du diplôme ou titre": ""},  # 10
    ]
    return _write(tmp_path / "rco.csv", header, rows), header, rows


def test_broken_rows_are_rejected_with_line_and_reason(broken_csv, refs, links) -> None:
    path, _, _ = broken_csv
    records, report = parse_rco(path, refs, "import", links=links)
    assert report.read == 8 and report.kept == 4
    assert [(r.line, r.reason) for r in report.rejects] == [
        (3, "no_coordinates"), (6, "missing_id"), (7, "duplicate"), (10, "missing_title"),
    ]
    assert "99999" in report.rejects[0].message and "commune introuvable" in report.rejects[0].message
    assert "ligne 2" in report.rejects[2].message
    good, two_lines, same_key, no_diploma = records[0], records[1], records[2], records[3]
    assert good["key"] == MERCUREY_KEY and good["source"] == "import"
    assert two_lines["title"] == "BTS sur deux lignes" and two_lines["city"] == "Valbonne"
    assert same_key["key"] == MERCUREY_KEY + "#2" and same_key["hours"] == 1400
    assert no_diploma["romes"] == [] and no_diploma["insee"] == "22264"
    assert no_diploma["level"] == 3 and no_diploma["capacity"] is None
    assert report.notes["place:postal_code"] == 1 and report.notes["place:former_code"] == 1
    assert report.notes["no_rome:no_diploma_code"] == 1 and report.notes["duplicate_key"] == 1
    assert report.notes["capacity_unreadable"] == 1


def test_semicolon_file_reads_like_the_comma_one(broken_csv, tmp_path, refs, links) -> None:
    path, header, rows = broken_csv
    other = _write(tmp_path / "rco_excel.csv", header, rows, delimiter=";")
    assert parse_rco(other, refs, "import", links=links) == parse_rco(path, refs, "import", links=links)


def test_missing_columns_fail_the_whole_file(tmp_path, real_rows, refs, links) -> None:
    header = [h for h in real_rows[0] if h not in ("numeroAf", "code INSEE lieu")]
    path = _write(tmp_path / "rco.csv", header, [{h: real_rows[0][h] for h in header}])
    with pytest.raises(ImportFailed) as failed:
        parse_rco(path, refs, links=links)
    assert "« numeroAf »" in str(failed.value) and "« code INSEE lieu »" in str(failed.value)


def test_non_utf8_file_fails_the_whole_file(tmp_path, real_rows, refs, links) -> None:
    path = _write(tmp_path / "rco.csv", list(real_rows[0]), real_rows[:3], encoding="latin-1")
    with pytest.raises(ImportFailed, match="UTF-8"):
        parse_rco(path, refs, links=links)


def test_empty_file_fails(tmp_path, refs, links) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ImportFailed, match="vide"):
        parse_rco(tmp_path / "empty.csv", refs, links=links)


def test_parsing_is_deterministic(data_dir, refs, parsed) -> None:
    # A second parse loading its own diploma links from data/ gives the very same records.
    again = parse_rco(resolve(data_dir, RCO_FILE), refs, data_dir=data_dir)
    assert again[0] == parsed[0]
    assert again[1].as_dict() == parsed[1].as_dict()


def test_build_records_the_facts(dataset_path: Path) -> None:
    conn = sqlite3.connect(f"file:{dataset_path}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'formations_rco.%'"))
        count = conn.execute("SELECT count(*) FROM formation WHERE source = 'rco'").fetchone()[0]
        source = conn.execute("SELECT rows, version FROM source_file WHERE name = ?", (RCO_FILE,)).fetchone()
    finally:
        conn.close()
    assert int(meta["formations_rco.kept"]) == count
    assert int(meta["formations_rco.with_coordinates"]) == count
    assert int(meta["formations_rco.with_rome"]) >= 0.85 * int(meta["formations_rco.read"])
    reasons = json.loads(meta["formations_rco.reasons"])
    assert reasons["rejected"] == {"duplicate": 1}
    assert sum(reasons["no_rome"].values()) == count - int(meta["formations_rco.with_rome"])
    assert source == (7470, "RCO 2020-06-25")
