"""The June 2020 apprenticeship offer (RCO extract): its reader, rejects, and its place in the catalogue."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from widget_server.ingest.files import read_csv, resolve
from widget_server.ingest.readers.rco_2020_06 import RCO_FILE, parse_rco
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import ImportFailed

MERCUREY_ID = "27:59049:67811:104239"   # CSV line 2413: BTS MCO at the CIFA Lameloise


@pytest.fixture(scope="module")
def refs(dataset_path: Path) -> Referentials:
    conn = sqlite3.connect(f"file:{dataset_path}?mode=ro", uri=True)
    try:
        return Referentials(conn)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def parsed(data_dir: Path, refs: Referentials):
    return parse_rco(resolve(data_dir, RCO_FILE), refs)


@pytest.fixture(scope="module")
def by_id(parsed) -> dict[str, object]:
    return {r.source_id: r for r in parsed[0]}


@pytest.fixture(scope="module")
def real_rows(data_dir: Path) -> list[dict[str, str]]:
    return list(read_csv(resolve(data_dir, RCO_FILE)))


@pytest.fixture(scope="module")
def served(dataset_path: Path):
    conn = sqlite3.connect(f"file:{dataset_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def _served_with(served: sqlite3.Connection, source: str, source_id: str) -> sqlite3.Row:
    """The served training one source row went into (its id is listed in `sources`)."""
    rows = [row for row in served.execute("SELECT * FROM formation WHERE sources LIKE ?", (f"%{source_id}%",))
            if any(s["source"] == source and source_id in s["ids"] for s in json.loads(row["sources"]))]
    assert len(rows) == 1, rows
    return rows[0]


def test_every_row_is_read_and_the_verbatim_copy_dropped(parsed) -> None:
    records, report = parsed
    assert report.read == 7470
    assert report.kept == len(records) == report.read - len(report.rejects)
    # The file repeats one row verbatim (lines 520 and 521): the copy is dropped, not fatal.
    assert [(r.line, r.reason) for r in report.rejects] == [(521, "duplicate")]
    assert all(r.insee in {*()} or len(r.insee) == 5 for r in records)


def test_records_are_well_formed(parsed, refs: Referentials) -> None:
    records, _ = parsed
    assert len({r.source_id for r in records}) >= len(records) - 5   # a few ids repeat with other content
    for r in records:
        assert r.source == "rco_2020_06" and r.year == 2020
        assert r.title and r.title == " ".join(r.title.split())
        assert r.level is None or 3 <= r.level <= 7
        assert r.insee in refs.places
        assert all(1 <= m <= 12 for m in r.months)


def test_a_known_row_field_by_field(by_id) -> None:
    r = by_id[MERCUREY_ID]
    assert r.line == 2413
    assert r.title == "BTS management commercial opérationnel"
    assert r.extra["diploma_label"] == "management commercial opérationnel"
    assert r.diploma_type == "Brevet de technicien supérieur"
    assert r.level == 5
    assert (r.certif, r.cfd, r.rncp) == ("104239", "32031213", "RNCP34031")
    assert r.manager_name == "CENTRE INTERPROFESSIONNEL DE FORMATION D'APPRENTIS JEAN LAMELOISE (CIFA LAMELOISE)"
    assert r.manager_siret == r.trainer_siret == "31405708400027"
    assert r.trainer_uai == "0711078L"
    assert (r.postal_code, r.insee) == ("71640", "71294")
    assert (r.months, r.hours, r.capacity) == ((9,), 1350, None)


def test_the_known_row_is_served_merged_named_and_tied_to_romes(served) -> None:
    row = _served_with(served, "rco_2020_06", MERCUREY_ID)
    assert row["title"].startswith("BTS") and "management commercial" in row["title"].lower()
    assert row["cfd"] == "32031213" and row["city"] == "Mercurey"
    assert {"D1401", "D1501", "D1506", "M1704", "M1705"} <= set(row["romes"].split(","))
    assert "LAMELOISE" in (row["centre_name"] or "").upper()
    assert "9" in (row["intake_months"] or "").split(",")
    assert row["source"] == "catalogue" and row["demo"] == 0


def test_replaced_diploma_gets_the_rome_codes_of_its_successor(served, real_rows) -> None:
    # CAP pâtissier 50022136 (2020) has no ROME in Certif Info 2024; its successor does.
    assert any(row["Code scolarité"] == "50022136" for row in real_rows)
    rows = served.execute("SELECT romes FROM formation WHERE cfd = '50022136' OR title LIKE 'CAP p_tissier%'").fetchall()
    assert rows and all("D1104" in r["romes"].split(",") for r in rows)


def test_former_insee_code_resolves_to_todays_commune(by_id, served) -> None:
    # Line 1789: INSEE 22247 (Pommerit-Jaudy) merged into La Roche-Jaudy (22264) in 2019.
    r = by_id["53:1201475:1201475:94449"]
    assert (r.insee, r.postal_code) == ("22264", "22450")
    assert _served_with(served, "rco_2020_06", "53:1201475:1201475:94449")["city"] == "La Roche-Jaudy"


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


def test_broken_rows_are_rejected_with_line_and_reason(broken_csv, refs) -> None:
    path, _, _ = broken_csv
    records, report = parse_rco(path, refs, "import")
    assert report.read == 8 and report.kept == 4
    assert [(r.line, r.reason) for r in report.rejects] == [
        (3, "no_coordinates"), (6, "missing_id"), (7, "duplicate"), (10, "missing_title"),
    ]
    assert "99999" in report.rejects[0].message and "commune introuvable" in report.rejects[0].message
    assert "ligne 2" in report.rejects[2].message
    good, two_lines, more_hours, no_diploma = records
    assert good.source_id == MERCUREY_ID and good.source == "import"
    assert two_lines.title == "BTS sur deux lignes" and two_lines.insee == "06152"   # Valbonne
    assert more_hours.source_id == MERCUREY_ID and more_hours.hours == 1400
    assert (no_diploma.certif, no_diploma.cfd, no_diploma.rncp) == ("", "", "") and no_diploma.insee == "22264"
    assert no_diploma.level == 3 and no_diploma.capacity is None
    assert report.notes["place:postal_code"] == 1 and report.notes["place:former_code"] == 1
    assert report.notes["capacity_unreadable"] == 1


def test_semicolon_file_reads_like_the_comma_one(broken_csv, tmp_path, refs) -> None:
    path, header, rows = broken_csv
    other = _write(tmp_path / "rco_excel.csv", header, rows, delimiter=";")
    assert parse_rco(other, refs, "import") == parse_rco(path, refs, "import")


def test_missing_columns_fail_the_whole_file(tmp_path, real_rows, refs) -> None:
    header = [h for h in real_rows[0] if h not in ("numeroAf", "code INSEE lieu")]
    path = _write(tmp_path / "rco.csv", header, [{h: real_rows[0][h] for h in header}])
    with pytest.raises(ImportFailed) as failed:
        parse_rco(path, refs)
    assert "« numeroAf »" in str(failed.value) and "« code INSEE lieu »" in str(failed.value)


def test_non_utf8_file_fails_the_whole_file(tmp_path, real_rows, refs) -> None:
    path = _write(tmp_path / "rco.csv", list(real_rows[0]), real_rows[:3], encoding="latin-1")
    with pytest.raises(ImportFailed, match="UTF-8"):
        parse_rco(path, refs)


def test_empty_file_fails(tmp_path, refs) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ImportFailed, match="vide"):
        parse_rco(tmp_path / "empty.csv", refs)


def test_parsing_is_deterministic(data_dir, refs, parsed) -> None:
    again = parse_rco(resolve(data_dir, RCO_FILE), refs)
    assert again[0] == parsed[0]
    assert again[1].as_dict() == parsed[1].as_dict()


def test_build_records_the_source_file(served) -> None:
    source = served.execute("SELECT rows, version FROM source_file WHERE name = ?", (RCO_FILE,)).fetchone()
    assert tuple(source) == (7470, "RCO 2020-06-25")
    meta = dict(served.execute("SELECT key, value FROM meta WHERE key LIKE 'catalogue.rco_2020_06.%'").fetchall())
    assert meta["catalogue.rco_2020_06.read"] == "7470"
    assert json.loads(meta["catalogue.rco_2020_06.rejected"]) == {"duplicate": 1}
