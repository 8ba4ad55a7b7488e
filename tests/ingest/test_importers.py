"""Importers of the real formats: field mapping on the real samples, row and file validation,
and the atomic swap that never loses the dataset being served (even under SIGKILL)."""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from widget_server.ingest.readers.catalogue_json import parse_catalogue
from widget_server.ingest.readers.ft_offers import contract_nature, offer_record, parse_ft_offers
from widget_server.ingest.build import finalize
from widget_server.ingest.importer import (
    PAUSE_ENV, NothingToImport, add_import_arguments, detect_format, import_file, run_import_command,
)
from widget_server.ingest.prediction import ROME_SHARE_THRESHOLD, load_naf_rome_shares, predicted_romes
from widget_server.ingest.readers.recruiters_csv import parse_recruiters
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import ImportFailed
from widget_server.ingest.validate import RowRejected, siret_valid, size_band
from widget_server.settings import PROJECT_ROOT
from widget_server.store.database import DatasetHolder, connect_readonly
from widget_server.store.schema import ITEM_KINDS

SAMPLES = PROJECT_ROOT / "data" / "samples"
CATALOGUE = SAMPLES / "catalogue-apprentissage_formations_sample.json"
OFFERS = SAMPLES / "esd-offres-happypath.redacted.json"
RECRUITERS = SAMPLES / "lbb_etablissements_dev_metz.csv.gz"
LBB_HEADER = ("siret,raisonsociale,enseigne,codenaf,trancheeffectif,numerorue,libellerue,codepostal,tel,email,"
              "website,codecommune,coordinates_x,coordinates_y,score_alternance")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.glob(f".{path.name}.*.tmp*"))


@pytest.fixture(scope="module")
def conn(dataset_path: Path):
    c = connect_readonly(dataset_path)
    yield c
    c.close()


@pytest.fixture(scope="module")
def refs(conn) -> Referentials:
    return Referentials(conn)


@pytest.fixture(scope="module")
def served_template(dataset_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session dataset with one item in ten, re-indexed: the same referentials (what the
    importers read) in a file a fifth of the size, which each test copies and swaps quickly."""
    cache = os.environ.get("WIDGET_TEST_DATASET_CACHE")
    if cache:
        # bench/mutation.py: the template is made by the build's code, not the importer's: one per run.
        stat = dataset_path.stat()
        cached = Path(cache) / f"served-{stat.st_size}-{stat.st_mtime_ns}.sqlite"
        if not cached.exists():
            _make_template(dataset_path, cached.with_suffix(".part"))
            cached.with_suffix(".part").rename(cached)
        return cached
    return _make_template(dataset_path, tmp_path_factory.mktemp("served") / "template.sqlite")


def _make_template(dataset_path: Path, path: Path) -> Path:
    source, copy = connect_readonly(dataset_path), sqlite3.connect(path)
    source.backup(copy)
    source.close()
    for kind in ITEM_KINDS:
        copy.execute(f"DELETE FROM {kind} WHERE id % 10 != 0")
    meta = dict(copy.execute("SELECT key, value FROM meta"))
    finalize(copy, meta)
    copy.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(meta.items()))
    copy.commit()
    copy.execute("VACUUM")
    copy.close()
    return path


@pytest.fixture
def served(served_template: Path, tmp_path: Path) -> Path:
    """A private dataset to import into (the session one stays read-only)."""
    path = tmp_path / "served" / "dataset.sqlite"
    path.parent.mkdir()
    shutil.copyfile(served_template, path)
    return path


# ---------------------------------------------------------------- the real samples, field by field

def test_catalogue_sample(refs) -> None:
    records, report = parse_catalogue(CATALOGUE, refs)
    assert (report.read, report.kept, report.rejects) == (2, 2, [])
    r = records[0]
    assert r["key"] == "catalogue:082581P012X1300279230016313002792300171-33063#L01"
    assert r["title"] == "CONSEILLER TECHNIQUE CYCLES (ANFA)"
    assert r["diploma_label"] == "Conseiller technique cycles"
    assert r["diploma_type"] == "TH DE NIV 4 ORGANISMES GESTIONNAIRES DIVERS"
    assert (r["level"], r["cfd"], r["rncp"]) == (4, "46X25201", "RNCP36721")
    assert r["romes"] == ["D1211", "I1607"]
    assert (r["centre_name"], r["centre_siret"]) == ("CMA DE LA GIRONDE", "13002792300163")
    assert (r["trainer_name"], r["trainer_siret"]) == ("INSTITUT METIERS ARTISANAT 33", "13002792300171")
    assert r["address"].startswith("Institut des Métiers de l'Artisanat") and r["address"].endswith("Cardinal Richaud")
    assert (r["postal_code"], r["city"], r["insee"]) == ("33300", "Bordeaux", "33063")
    assert (r["latitude"], r["longitude"]) == (44.841225, -0.5800364)   # "lat,lon" in that order
    assert r["entry_periods"] == "septembre 2021"
    assert (r["hours"], r["capacity"], r["url"], r["source"], r["demo"]) == (None, None, None, "catalogue", False)
    assert records[1]["level"] == 5 and records[1]["romes"] == ["F1106", "F1108", "F1201", "F1202"]


def test_france_travail_sample(refs) -> None:
    records, report = parse_ft_offers(OFFERS, refs)
    assert (report.read, report.kept, report.rejects) == (8, 8, [])
    # The sample's SIRETs are masked ("00000000000007"): dropped, the offers kept.
    assert report.notes["siret_invalid"] == 8
    r = records[0]
    assert r["key"] == "ft:082SGKK" and r["title"] == "conseiller de vente (H/F)"
    assert r["description"].startswith("Dans le cadre d'un contrat de professionnalisation")
    assert (r["romes"], r["appellation"]) == (["D1212"], "Vendeur / Vendeuse en bricolage")
    assert (r["contract_nature"], r["contract_type"], r["duration_months"]) == ("FS", "CDD", 12)
    assert r["created_at"] == "2019-01-23T12:32:22Z"   # 13:32:22+01:00 in UTC
    assert (r["company_name"], r["company_siret"], r["recruiter_key"]) == ("ISEAH FORMATION", None, None)
    assert r["size_band"] == "21"   # "50 à 99 salariés"
    assert (r["postal_code"], r["city"], r["insee"]) == ("57000", "Metz", "57463")
    assert (r["latitude"], r["longitude"]) == (49.11972222, 6.176944443)
    assert r["url"] == "https://candidat.pole-emploi.fr/offres/recherche/detail/082SGKK"   # urlOrigine wins
    assert (r["source"], r["demo"], r["level"], r["start_date"]) == ("france_travail", False, None, None)
    apprenticeship = [x for x in records if x["contract_nature"] == "E2"]
    assert [x["key"] for x in apprenticeship] == ["ft:088QSFQ"]
    assert apprenticeship[0]["level"] == 5 and apprenticeship[0]["city"] == "Lunéville"


def test_offer_record_is_reusable_alone(refs) -> None:
    raw = json.loads(OFFERS.read_text())["resultats"][7]
    del raw["origineOffre"]
    raw["entreprise"]["siret"] = "13002792300163"
    raw["codeNAF"] = "47.42Z"
    r = offer_record(raw, refs)
    assert r["url"] == "https://candidat.francetravail.fr/offres/recherche/detail/088QSFQ"
    assert (r["company_siret"], r["recruiter_key"], r["naf"]) == ("13002792300163", "13002792300163", "4742Z")
    raw["natureContrat"] = "Contrat travail"
    with pytest.raises(RowRejected) as info:
        offer_record(raw, refs)
    assert info.value.reason == "not_alternance" and "Offre 088QSFQ" in info.value.message
    assert [contract_nature(v) for v in ("Contrat apprentissage", "Cont. professionnalisation", "E2", "fs", "CDI")] \
        == ["E2", "FS", "E2", "FS", None]


def test_recruiters_sample(refs, conn) -> None:
    shares = load_naf_rome_shares(conn)
    records, report = parse_recruiters(RECRUITERS, refs, shares)
    assert report.read == 17091
    assert report.reasons() == {"unknown_naf": 52}   # NAF "0000Z"
    assert report.kept == len(records) == 17091 - 52 - report.notes["skipped:no_predicted_rome"]
    by_key = {r["key"]: r for r in records}
    r = by_key["01625043300220"]   # line 2
    assert (r["siret"], r["name"], r["naf"]) == ("01625043300220", "GEP", "4772A")   # enseigne before legal name
    assert (r["size_band"], r["hiring_score"]) == (None, 23.0)
    assert (r["address"], r["postal_code"], r["city"], r["insee"]) == ("11 RUE FABERT", "57000", "Metz", "57463")
    assert (r["latitude"], r["longitude"]) == (49.1187, 6.17528)   # coordinates_y, coordinates_x
    assert r["romes"] == predicted_romes("4772A", 23.0, shares) == ["D1214"]
    assert (r["url"], r["email"], r["phone"], r["source"], r["demo"]) == (None, None, None, "lbb", False)
    # 0,0 means "no coordinates": the commune's centre is used.
    marius = by_key["01926094200016"]
    assert (marius["latitude"], marius["longitude"]) == (refs.places["57463"].latitude, refs.places["57463"].longitude)
    # Placeholders are never presented as contacts; the one real website is kept.
    contacts = {v for x in records for v in (x["url"], x["email"], x["phone"])}
    assert contacts == {None, "http://recrutement.printemps.com/"}
    assert 0 <= min(x["hiring_score"] for x in records) and max(x["hiring_score"] for x in records) <= 100


def test_prediction_rule() -> None:
    shares = {"4772A": {"D1214": 0.8, "D1301": 0.1, "N1103": 0.02}}
    assert predicted_romes("4772A", 100, shares) == ["D1214", "D1301"]
    assert predicted_romes("4772A", 100 * ROME_SHARE_THRESHOLD / 0.1, shares) == ["D1214", "D1301"]   # boundary
    assert predicted_romes("4772A", 3, shares) == []
    assert predicted_romes("0000Z", 100, shares) == []


def test_field_checks() -> None:
    assert siret_valid("13002792300163") and siret_valid("01625043300220")
    assert not siret_valid("13002792300164") and not siret_valid("00000000000000") and not siret_valid("1300279230016")
    # La Poste: Luhn fails, but the digits add up to a multiple of 5.
    assert siret_valid("35600000000015") and not siret_valid("35600000000016")
    assert (size_band("12"), size_band("20 à 49 salariés"), size_band("10 000 salariés et plus"),
            size_band("99"), size_band("")) == ("12", "12", "53", None, None)


# ---------------------------------------------------------------- bad rows in good files

def test_bad_rows_in_a_recruiters_file(refs, conn, tmp_path: Path) -> None:
    rows = [
        "13002792300163,CMA GIRONDE,,4772A,12,46,RUE LARMINAT,33000,,,,33063,-0.57,44.84,80",   # 2 good
        "13002792300164,BAD SIRET,,4772A,,,,33000,,,,33063,-0.57,44.84,80",                      # 3
        "19470015900016,LYCEE,,9999Z,,,,47320,,,,47065,0.37,44.36,80",                          # 4
        '01625043300220,CHAUSSURES,,4772A,,11,"RUE\nFABERT",99999,,,,99999,,,80',               # 5-6
        "01928074200016,,,4772A,,,,57000,,,,57463,6.17,49.11,80",                               # 7
        "13002792300163,AGAIN,,4772A,,,,33000,,,,33063,-0.57,44.84,80",                         # 8
        "01926094200016,SCORE,,4772A,,,,57000,,,,57463,6.17,49.11,high",                        # 9
        "40486907500014,FAR,,4772A,,,,57000,0123456789,dummyemail@gmail.com,,57463,2.25,49.89,90",  # 10
    ]
    path = tmp_path / "lbb.csv"
    path.write_text(LBB_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    records, report = parse_recruiters(path, refs, load_naf_rome_shares(conn))
    assert [(r.line, r.reason) for r in report.rejects] == [
        (3, "bad_siret"), (4, "unknown_naf"), (5, "no_coordinates"), (7, "missing_title"),
        (8, "duplicate"), (9, "bad_score")]
    assert report.rejects[4].message == ("Ligne 8 : même identifiant (13002792300163) que la ligne 2 ; "
                                         "doublon ignoré.")
    assert "« 9999Z »" in report.rejects[1].message and "99999" in report.rejects[2].message
    assert [r["key"] for r in records] == ["13002792300163", "40486907500014"]
    assert records[0]["size_band"] == "12" and records[0]["address"] == "46 RUE LARMINAT"
    far = records[1]   # coordinates 200 km from its commune: the commune's centre instead
    assert (far["latitude"], far["email"], far["phone"]) == (refs.places["57463"].latitude, None, None)


def test_bad_records_in_an_offers_file(refs, tmp_path: Path) -> None:
    good = json.loads(OFFERS.read_text())["resultats"][0]
    variants = [   # record number in the file once "not an object" is put in 6th place
        {},                                                             # 1 good
        {"natureContrat": "Contrat travail"},                           # 2
        {"dateCreation": "23/01/2019"},                                 # 3
        {"romeCode": "Z9999"},                                          # 4
        {"intitule": "  "},                                             # 5
        {"id": good["id"]},                                             # 7 duplicate of 1
        {"id": "X6", "lieuTravail": {"libelle": "99 - NOWHERE"}},       # 8
        {"id": "X7", "lieuTravail": {"commune": "57463", "latitude": 0, "longitude": 0}},   # 9 good: commune
    ]
    offers = [{**good, **({"id": f"X{i}"} if i else {}), **v} for i, v in enumerate(variants)]
    offers.insert(5, "not an object")                                   # 6
    path = tmp_path / "offers.json"
    path.write_text(json.dumps({"resultats": offers}), encoding="utf-8")
    records, report = parse_ft_offers(path, refs)
    assert [(r.line, r.reason) for r in report.rejects] == [
        (2, "not_alternance"), (3, "bad_date"), (4, "unknown_rome"), (5, "missing_title"),
        (6, "bad_record"), (7, "duplicate"), (8, "no_coordinates")]
    assert report.rejects[5].message.startswith("Enregistrement 7 : même identifiant (ft:082SGKK) que l'enregistrement 1")
    assert [r["key"] for r in records] == ["ft:082SGKK", "ft:X7"]
    assert (records[1]["latitude"], records[1]["city"]) == (refs.places["57463"].latitude, "Metz")


def test_bad_records_in_a_catalogue_file_and_the_csv_form(refs, tmp_path: Path) -> None:
    data = json.loads(CATALOGUE.read_text())
    first = data["formations"][0]
    data["formations"] += [
        {**first, "cle_ministere_educatif": "K3", "rome_codes": ["Z0000"]},
        {**first, "cle_ministere_educatif": "K4", "periode": ["septembre"]},
        {**first, "cle_ministere_educatif": "K5", "intitule_long": None, "intitule_court": "",
         "intitule_rco": None, "rncp_intitule": None},
        {**first, "cle_ministere_educatif": "K6", "lieu_formation_geo_coordonnees": None,
         "lieu_formation_geo_coordonnees_computed": None, "code_commune_insee": "00000", "code_postal": None},
        {**first, "cle_ministere_educatif": "K7", "rome_codes": [], "etablissement_formateur_siret": "123",
         "lieu_formation_geo_coordonnees": "-0.5800364,44.841225"},
    ]
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    records, report = parse_catalogue(path, refs)
    assert [(r.line, r.reason) for r in report.rejects] == [
        (3, "unknown_rome"), (4, "bad_date"), (5, "missing_title"), (6, "no_coordinates")]
    k7 = records[-1]
    assert k7["romes"] and k7["trainer_siret"] is None          # ROME codes from the diploma; bad SIRET dropped
    assert (k7["latitude"], k7["longitude"]) == (44.841225, -0.5800364)   # swapped lat/lon put back
    assert report.notes["coordinates:swapped"] == 1 and report.notes["siret_invalid"] == 1

    csv_path = tmp_path / "catalogue.csv"
    csv_path.write_text(
        "cle_ministere_educatif;intitule_long;niveau;rome_codes;code_commune_insee;code_postal;"
        "lieu_formation_geo_coordonnees;periode\n"
        'C1;BTS MCO;5 (BTS, DEUST...);D1406,D1502;33063;33000;44.84,-0.57;["2024-09-01T00:00:00.000Z"]\n',
        encoding="utf-8")
    assert detect_format("formations", csv_path) == "catalogue"
    records, report = parse_catalogue(csv_path, refs)
    assert report.rejects == [] and records[0]["romes"] == ["D1406", "D1502"]
    assert (records[0]["level"], records[0]["entry_periods"]) == (5, "septembre 2024")


# ---------------------------------------------------------------- unusable files

def test_unusable_files_are_refused_and_the_dataset_is_untouched(served: Path, tmp_path: Path) -> None:
    before = digest(served)
    missing_column = tmp_path / "no_score.csv"
    missing_column.write_text(LBB_HEADER.replace(",score_alternance", "") + "\n", encoding="utf-8")
    cp1252 = tmp_path / "ansi.csv"
    cp1252.write_bytes((LBB_HEADER + "\n13002792300163,SOCIÉTÉ GÉNÉRALE,,4772A,,,,33000,,,,33063,,,50\n")
                       .encode("cp1252"))
    broken_json = tmp_path / "broken.json"
    broken_json.write_text('{"resultats": [\n  {"id": "1"},\n]}', encoding="utf-8")
    all_bad = tmp_path / "all_bad.json"
    all_bad.write_text(json.dumps({"resultats": [{"id": "1", "intitule": "x", "natureContrat": "CDI"}]}))
    cases = [
        ("recruiters", missing_column, "Colonne(s) obligatoire(s) absente(s) de no_score.csv : score_alternance"),
        ("recruiters", cp1252, "Windows-1252"),
        ("offers", broken_json, "ligne 3, colonne 1"),
        ("offers", tmp_path / "nowhere.json", "Fichier introuvable"),
        ("offers", tmp_path, "est un dossier"),
        ("offers", all_bad, "Aucune ligne valide dans all_bad.json (1 lue(s) ; rejets : not_alternance × 1)"),
    ]
    for kind, path, expected in cases:
        with pytest.raises(ImportFailed) as info:
            import_file(served, kind, path)
        assert expected in str(info.value), str(info.value)
        assert digest(served) == before and leftovers(served) == []
    message = str(pytest.raises(ImportFailed, import_file, served, "recruiters", cp1252).value)
    assert "octet 0xc9 invalide, ligne 2" in message and "iconv -f WINDOWS-1252 -t UTF-8" in message


def test_a_damaged_copy_is_never_put_in_service(served: Path, monkeypatch) -> None:
    from widget_server.ingest import importer

    before = digest(served)
    monkeypatch.setattr(importer.sqlite3, "connect", _connect_saying_damaged(sqlite3.connect))
    with pytest.raises(ImportFailed) as info:
        import_file(served, "offers", OFFERS)
    assert str(info.value) == ("Le jeu de données produit est abîmé (row 12 missing from index "
                               "sqlite_autoindex_offer_1) : import annulé, rien n'a changé.")
    assert digest(served) == before and leftovers(served) == []


class _Damaged(sqlite3.Connection):
    """A connection whose quick_check finds damage (what a disk error leaves)."""

    def execute(self, sql, *args):
        if sql.strip().upper() == "PRAGMA QUICK_CHECK":
            return super().execute("SELECT 'row 12 missing from index sqlite_autoindex_offer_1'")
        return super().execute(sql, *args)


def _connect_saying_damaged(connect):
    def connecting(path, *args, **kwargs):
        return connect(path, *args, factory=_Damaged, **kwargs)
    return connecting


def test_a_failure_while_writing_leaves_the_dataset_untouched(served: Path, monkeypatch) -> None:
    from widget_server.ingest import importer

    def broken(conn, meta, kinds=()):
        raise sqlite3.OperationalError("disk I/O error")

    before = digest(served)
    monkeypatch.setattr(importer, "finalize", broken)
    with pytest.raises(sqlite3.OperationalError):
        import_file(served, "offers", OFFERS)
    assert digest(served) == before and leftovers(served) == []


# ---------------------------------------------------------------- the swap

def test_import_replaces_one_kind_and_stamps_the_dataset(served: Path) -> None:
    now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
    source = connect_readonly(served)
    before = dict(source.execute("SELECT key, value FROM meta"))
    source.close()
    assert int(before["count.formation"]) > 1000 and int(before["count.offer"]) > 100
    result = import_file(served, "recruiters", RECRUITERS, now=now)
    assert result.fmt == "lbb" and result.replace and result.previous_version == before["version"]
    c = connect_readonly(served)
    try:
        meta = dict(c.execute("SELECT key, value FROM meta"))
        assert meta["version"] == result.version != before["version"]
        assert c.execute("SELECT count(*), sum(demo), min(source), max(source) FROM recruiter").fetchone() \
            == (result.report.kept, 0, "lbb", "lbb")
        assert meta["count.recruiter"] == str(result.report.kept) and meta["count.recruiter.demo"] == "0"
        assert meta["count.formation"] == before["count.formation"]   # other kinds untouched
        assert meta["count.offer"] == before["count.offer"]
        stamp = json.loads(meta["import.recruiter"])
        assert (stamp["file"], stamp["format"], stamp["mode"], stamp["at"]) == (
            RECRUITERS.name, "lbb", "replace", "2026-03-01T12:00:00+00:00")
        assert (stamp["read"], stamp["rejected"], stamp["reasons"]) == (17091, 52, {"unknown_naf": 52})
        assert stamp["kept"] == result.report.kept and stamp["notes"] == dict(sorted(result.report.notes.items()))
        assert stamp["sha256"] == hashlib.sha256(gzip.decompress(RECRUITERS.read_bytes())).hexdigest()
        assert c.execute("SELECT rows, version FROM source_file WHERE name = ?",
                         (f"import/recruiter/{RECRUITERS.name}",)).fetchone() == (17091, "lbb, importé le 2026-03-01")
        # Indexed: the geo search finds them.
        assert c.execute("SELECT count(DISTINCT item_id) FROM recruiter_geo").fetchone()[0] == result.report.kept
    finally:
        c.close()
    assert leftovers(served) == []


def test_append_adds_and_rejects_known_keys(served: Path) -> None:
    first = import_file(served, "offers", OFFERS)
    before = digest(served)
    with pytest.raises(NothingToImport) as info:
        import_file(served, "offers", OFFERS, replace=False)
    assert [r.reason for r in info.value.report.rejects] == ["duplicate"] * 8
    assert info.value.report.rejects[0].message.startswith("Enregistrement 1 : « ft:082SGKK » est déjà dans le jeu")
    assert digest(served) == before
    data = json.loads(OFFERS.read_text())
    data["resultats"][0]["id"] = "NEW1"
    extra = served.parent / "more.json"
    extra.write_text(json.dumps(data), encoding="utf-8")
    second = import_file(served, "offers", extra, replace=False)
    assert (second.report.kept, len(second.report.rejects)) == (1, 7)
    assert second.counts["offer"] == first.counts["offer"] + 1 == 9
    c = connect_readonly(served)
    try:
        stamp = json.loads(dict(c.execute("SELECT key, value FROM meta"))["import.offer"])
    finally:
        c.close()
    # Stamped as an append, at a time in UTC (no `now` given: the clock's).
    assert stamp["mode"] == "append" and stamp["file"] == "more.json"
    assert dt.datetime.fromisoformat(stamp["at"]).utcoffset() == dt.timedelta(0)


def test_import_is_refused_while_another_runs(served: Path) -> None:
    import fcntl
    before = digest(served)
    with open(served.with_name(f".{served.name}.import.lock"), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ImportFailed, match="Un autre import"):
            import_file(served, "offers", OFFERS)
    assert digest(served) == before


@pytest.mark.parametrize("phase", ["copied", "inserted", "finalized"])
def test_a_killed_import_leaves_the_dataset_serving(served: Path, phase: str) -> None:
    before = digest(served)
    code = ("import sys; from pathlib import Path; from widget_server.ingest.importer import import_file; "
            "import_file(Path(sys.argv[1]), 'offers', Path(sys.argv[2]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(served), str(OFFERS)], cwd=PROJECT_ROOT,
                            env={**os.environ, PAUSE_ENV: f"{phase}:60"}, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()   # the hook announces the pause, then sleeps
        assert line.strip() == f"widget-import-pause {phase}", line + proc.stderr.read()
        assert f".{served.name}.{proc.pid}.tmp" in leftovers(served)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert digest(served) == before
    c = connect_readonly(served)
    assert c.execute("SELECT count(*) FROM offer WHERE source = 'france_travail'").fetchone()[0] == 0
    c.close()
    # The next import works, and sweeps the dead process's copy away.
    assert import_file(served, "offers", OFFERS).report.kept == 8
    assert leftovers(served) == []


def test_a_running_service_switches_to_the_imported_dataset(served: Path) -> None:
    holder = DatasetHolder(served, loaders={}, reload_interval=0.0001)
    old = holder.load()
    old_offers = old.conn.execute("SELECT count(*) FROM offer").fetchone()[0]
    result = import_file(served, "offers", OFFERS)
    time.sleep(0.01)
    new = holder.get()
    try:
        assert new is not old and new.version == result.version != old.version
        assert new.conn.execute("SELECT count(*) FROM offer").fetchone()[0] == 8
        # A request still holding the old snapshot reads the old data, consistently.
        assert old.conn.execute("SELECT count(*) FROM offer").fetchone()[0] == old_offers
        assert old.conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0] == old.version
        assert old.conn.execute("SELECT count(*) FROM offer WHERE source = 'france_travail'").fetchone()[0] == 0
    finally:
        old.conn.close()
        new.conn.close()


# ---------------------------------------------------------------- formats from elsewhere, and the command

def test_rco_file_goes_through_the_rco_parser(served: Path, data_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("widget_server.ingest.readers.rco_2020_06")
    lines = gzip.decompress((data_dir / "formations/RCO_20200625_offre_apprentissage.csv.gz").read_bytes()) \
        .decode("utf-8").splitlines(keepends=True)
    path = tmp_path / "rco.csv"
    path.write_text("".join(lines[:41]), encoding="utf-8")
    assert detect_format("formations", path) == "rco"
    result = import_file(served, "formations", path)
    assert result.fmt == "rco" and result.report.read == 40 and result.counts["formation"] == result.report.kept > 30
    path.write_text(lines[0].replace("code INSEE lieu", "insee") + lines[1], encoding="utf-8")
    with pytest.raises(ImportFailed, match="code INSEE lieu"):
        import_file(served, "formations", path)


def test_command_line(served: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    from widget_server.cli import main

    monkeypatch.setenv("WIDGET_DATASET", str(served))
    assert main(["data", "import", "offers", str(OFFERS)]) == 0
    out = capsys.readouterr().out
    assert "Import des offres (france_travail) depuis esd-offres-happypath.redacted.json" in out
    assert "8 ligne(s) lue(s), 8 importée(s), 0 rejetée(s)." in out
    assert main(["data", "import", "recruiters", str(RECRUITERS), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"]["reasons"] == {"unknown_naf": 52}
    before = digest(served)
    assert main(["data", "import", "offers", str(tmp_path / "nope.json")]) == 1
    assert "Import refusé : Fichier introuvable" in capsys.readouterr().err
    parser = argparse.ArgumentParser()
    add_import_arguments(parser)
    args = parser.parse_args(["formations", str(CATALOGUE), "--format", "lbb"])
    assert run_import_command(served, args) == 1
    assert "ne convient pas aux formations" in capsys.readouterr().err
    assert digest(served) == before


def _command(dataset: Path, *argv: str, max_mb: float | None = None) -> tuple[int, str, str]:
    import io

    parser = argparse.ArgumentParser()
    add_import_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    code = run_import_command(dataset, parser.parse_args(argv), out, err, max_mb=max_mb)
    return code, out.getvalue(), err.getvalue()


def test_the_command_on_a_file_with_no_valid_row(served: Path, tmp_path: Path) -> None:
    all_bad = tmp_path / "all_bad.json"
    all_bad.write_text(json.dumps({"resultats": [{"id": "1", "intitule": "x", "natureContrat": "CDI"}]}))
    code, out, err = _command(served, "offers", str(all_bad))
    assert (code, out) == (1, "")
    report, refusal = err.split("\nImport refusé : ")
    assert report.startswith("1 ligne(s) lue(s), 0 importée(s), 1 rejetée(s).\nRejets par motif : not_alternance 1")
    assert refusal.startswith("Aucune ligne valide dans all_bad.json (1 lue(s) ; rejets : not_alternance × 1).")
    # --json: the same refusal and its report, as JSON on stdout (UTF-8 kept, indented).
    code, out, err = _command(served, "offers", str(all_bad), "--json")
    answer = json.loads(out)
    assert code == 1 and answer["error"] == refusal.rstrip("\n") and answer["report"]["reasons"] == {"not_alternance": 1}
    assert '\n  "error": "Aucune ligne valide' in out and "é" in out
    assert err == f"Import refusé : {answer['error']}\n"
    # A refusal without a report (no such file): the report is null.
    code, out, _ = _command(served, "offers", str(tmp_path / "nope.json"), "--json")
    assert code == 1 and json.loads(out)["report"] is None and json.loads(out)["error"].startswith("Fichier introuvable")


def test_the_command_appends_or_replaces_and_answers_in_json(served: Path) -> None:
    code, out, _ = _command(served, "offers", str(OFFERS), "--json")
    answer = json.loads(out)
    assert code == 0 and (answer["mode"], answer["kind"], answer["report"]["kept"]) == ("replace", "offer", 8)
    assert '\n  "dataset": ' in out and "importé" not in out
    # Appending the same file: every key is already there, nothing to add, nothing changed.
    before = digest(served)
    code, _, err = _command(served, "offers", str(OFFERS), "--append")
    assert code == 1 and "duplicate 8" in err and "(import en ajout) : ignorée." in err
    assert digest(served) == before
    # Replacing with it again is fine.
    assert _command(served, "offers", str(OFFERS))[0] == 0


def test_the_command_says_what_it_did(served: Path, tmp_path: Path) -> None:
    summer = tmp_path / "offres-été.json"
    shutil.copyfile(OFFERS, summer)
    code, out, err = _command(served, "offers", str(summer))
    assert (code, err) == (0, "") and out.startswith("Import des offres (france_travail) depuis offres-été.json")
    code, out, _ = _command(served, "offers", str(summer), "--json")
    assert code == 0 and '"file": "' + str(summer) + '"' in out        # UTF-8 kept, not \u escapes
    # How many rejects are listed follows --rejects, when it works and when it is refused.
    code, out, _ = _command(served, "recruiters", str(RECRUITERS), "--rejects", "1")
    assert code == 0 and "Lignes rejetées (1 sur 52) :" in out
    all_bad = tmp_path / "all_bad.json"
    all_bad.write_text(json.dumps({"resultats": [{"id": str(i), "intitule": "x", "natureContrat": "CDI"}
                                                 for i in range(3)]}))
    code, _, err = _command(served, "offers", str(all_bad), "--rejects", "2")
    assert code == 1 and "Lignes rejetées (2 sur 3) :" in err


def test_a_catalogue_nested_too_deep_is_refused_in_one_line(served: Path, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    before = digest(served)
    with pytest.raises(ImportFailed) as info:
        import_file(served, "formations", deep, fmt="catalogue")
    assert str(info.value) == (f"deep.json : imbrication trop profonde (plus de {sys.getrecursionlimit()} niveaux "
                               "de tableaux ou d'objets JSON) : ce n'est pas un export du catalogue.")
    assert digest(served) == before


def test_a_number_too_long_to_read_is_refused_in_one_line(served: Path, tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    huge.write_text('[{"cfd": ' + "9" * 5000 + "}]", encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(served, "formations", huge, fmt="catalogue")
    assert str(info.value) == (f"huge.json : un nombre a plus de {sys.get_int_max_str_digits()} chiffres "
                               "(limite de lecture) : corrigez cette valeur.")


def test_stale_copies_of_dead_imports_are_removed_and_live_ones_kept(served: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # A live process that a stray signal would end (SIGHUP restored: it may start under nohup).
    alive = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                              "signal.signal(signal.SIGHUP, signal.SIG_DFL); print('ready', flush=True); "
                              "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert alive.stdout.readline() == "ready\n"
        names = [f".{served.name}.abc.tmp", f".{served.name}.{alive.pid}.tmp",
                 *(f".{served.name}.{dead.pid + 100_000 * n}.tmp" for n in range(1, 4)),
                 f".{served.name}.{dead.pid}.tmp-journal"]
        for name in names:
            (served.parent / name).write_bytes(b"left over")
        assert import_file(served, "offers", OFFERS).report.kept == 8
        # Not a process id, or a running process's: kept (and that process left alone).
        assert leftovers(served) == sorted([f".{served.name}.abc.tmp", f".{served.name}.{alive.pid}.tmp"])
        assert alive.poll() is None
    finally:
        alive.kill()
        alive.wait()
        alive.stdout.close()


def test_the_size_limit_comes_from_the_settings_and_kinds_are_checked(served: Path, tmp_path: Path,
                                                                      monkeypatch) -> None:
    monkeypatch.setenv("WIDGET_IMPORT_MAX_MB", "0.5")
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"resultats": [], "padding": "x" * 600_000}), encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(served, "offers", big)
    assert "0.5 Mo (WIDGET_IMPORT_MAX_MB)" in str(info.value)
    with pytest.raises(ValueError, match=r"^unknown kind 'jobs'; choose one of formations, offers, recruiters$"):
        import_file(served, "jobs", OFFERS)


def test_format_names_are_taken_with_hyphens_as_the_command_spells_them(served: Path) -> None:
    assert import_file(served, "offers", OFFERS, fmt="france-travail").fmt == "france_travail"


def test_a_json_catalogue_export_is_imported(served: Path) -> None:
    result = import_file(served, "formations", CATALOGUE)
    assert result.fmt == "catalogue" and result.report.kept > 0
    assert result.counts["formation"] == result.report.kept


def test_the_command_holds_the_size_limit(served: Path) -> None:
    code, _, err = _command(served, "offers", str(OFFERS), max_mb=0.001)
    assert code == 1 and "Import refusé" in err and "Mo" in err


def test_the_command_prints_to_the_console_by_default(served: Path, capsys) -> None:
    parser = argparse.ArgumentParser()
    add_import_arguments(parser)
    assert run_import_command(served, parser.parse_args(["offers", str(OFFERS)])) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("Import des offres (france_travail) depuis esd-offres-happypath.redacted.json")
    assert printed.err == ""


@pytest.mark.parametrize("name, fmt", [("rco_formations_2020-11.csv.gz", "rco_catalogue"),
                                       ("onisep_af_catalogue_2023.csv.gz", "onisep"),
                                       ("listeFormationApprentissagePsup.csv.gz", "parcoursup")])
def test_each_catalogue_format_is_recognised_and_merged_like_the_build(served: Path, data_dir: Path,
                                                                      tmp_path: Path, name: str, fmt: str) -> None:
    lines = gzip.decompress((data_dir / "formations" / name).read_bytes()).decode("utf-8").splitlines(keepends=True)
    path = tmp_path / name.removesuffix(".gz")
    path.write_text("".join(lines[:61]), encoding="utf-8")
    assert detect_format("formations", path) == fmt
    conn = sqlite3.connect(served)
    try:
        known = {row[0]: row for row in conn.execute("SELECT * FROM organisation ORDER BY 1")}
    finally:
        conn.close()
    result = import_file(served, "formations", path)
    assert result.fmt == fmt and result.report.read == 60 and result.report.source == "import"
    # What the reader noticed stays in the import's report (Parcoursup's codes read through MEF).
    assert fmt != "parcoursup" or result.report.notes["cfd:mef"] > 0
    # Intakes of one training are one item: never more items than rows, and at least one.
    assert 0 < result.counts["formation"] == result.report.kept <= 60
    conn = sqlite3.connect(served)
    try:
        rows = conn.execute("SELECT source, title, latitude, precision, sources FROM formation").fetchall()
    finally:
        conn.close()
    assert {r[0] for r in rows} == {"import"}
    # Organisations the dataset already knew keep their row (the build's directory is richer).
    conn = sqlite3.connect(served)
    try:
        after = {row[0]: row for row in conn.execute("SELECT * FROM organisation ORDER BY 1")}
    finally:
        conn.close()
    assert all(after[key] == row for key, row in known.items())
    assert all(title and lat is not None and precision in ("site", "organisation", "commune")
               for _, title, lat, precision, _ in rows)
    assert all(json.loads(sources)[0]["source"] in ("rco_2020_11", "onisep_2023", "parcoursup_2020")
               for *_, sources in rows)
