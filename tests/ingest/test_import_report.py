"""What `widget-server data import` tells the operator, line by line, and how it recognises a file's format.
Pure functions on hand-made reports and tiny files: no dataset needed."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from widget_server.ingest.importer import ImportResult, detect_format, format_report, format_result
from widget_server.ingest.report import RowReport


def report() -> RowReport:
    r = RowReport("import", read=10, kept=6)
    r.reject(3, "bad_siret", "Ligne 3 : SIRET 123 invalide.")
    r.reject(7, "no_coordinates", "Ligne 7 : ni adresse ni commune.")
    r.fix(5, "unsafe_url", "Ligne 5 : lien javascript: retiré.")
    r.notes["no_rome"] += 2
    r.notes["never_seen"] += 0        # a note counted zero times is not printed
    return r


def test_a_clean_import_in_one_line():
    assert format_report(RowReport("import", read=8, kept=8)) == "8 ligne(s) lue(s), 8 importée(s), 0 rejetée(s)."


def test_the_whole_report():
    assert format_report(report()).splitlines() == [
        "10 ligne(s) lue(s), 6 importée(s), 2 rejetée(s), 2 écartée(s) sans erreur (voir remarques).",
        "Rejets par motif : bad_siret 1, no_coordinates 1",
        "Remarques : no_rome 2, unsafe_url 1",
        "        5  unsafe_url      Ligne 5 : lien javascript: retiré.",
        "Lignes rejetées (2 sur 2) :",
        "        3  bad_siret       Ligne 3 : SIRET 123 invalide.",
        "        7  no_coordinates  Ligne 7 : ni adresse ni commune.",
    ]


def test_how_many_rejects_are_listed():
    assert format_report(report(), 1).splitlines()[-2:] == [
        "Lignes rejetées (1 sur 2) :", "        3  bad_siret       Ligne 3 : SIRET 123 invalide."]
    listed = format_report(report(), 0)
    assert "Lignes rejetées" not in listed and "unsafe_url      Ligne 5" not in listed
    assert format_report(report(), -1) == format_report(report(), 20)     # -1: all of them
    many = RowReport("import", read=30, kept=0)
    for line in range(30):
        many.reject(line + 2, "bad_siret", f"Ligne {line + 2}")
    assert "Lignes rejetées (20 sur 30) :" in format_report(many)
    assert "Lignes rejetées (30 sur 30) :" in format_report(many, -1)


def test_one_row_skipped_is_mentioned():
    r = RowReport("import", read=5, kept=3)
    r.reject(2, "bad_siret", "x")
    assert format_report(r).splitlines()[0] == (
        "5 ligne(s) lue(s), 3 importée(s), 1 rejetée(s), 1 écartée(s) sans erreur (voir remarques).")


def test_the_result_lists_twenty_rejects_by_default():
    many = RowReport("import", read=21, kept=0)
    for line in range(21):
        many.reject(line + 2, "bad_siret", f"Ligne {line + 2}")
    result = ImportResult(Path("/d"), "offer", "france_travail", Path("/o"), True, many, "a", "b")
    assert "Lignes rejetées (20 sur 21) :" in format_result(result)


def test_nothing_skipped_is_not_mentioned():
    r = RowReport("import", read=5, kept=4)
    r.reject(2, "bad_siret", "x")
    assert format_report(r).splitlines()[0] == "5 ligne(s) lue(s), 4 importée(s), 1 rejetée(s)."


def test_the_result():
    result = ImportResult(Path("/srv/dataset.sqlite"), "offer", "france_travail", Path("/tmp/offres.json"),
                          False, report(), "abc123", "def456", {"formation": 3, "offer": 8, "recruiter": 0}, 1.25)
    assert format_result(result).splitlines()[:3] == [
        "Import des offres (france_travail) depuis offres.json en 1.2 s.",
        "Jeu de données /srv/dataset.sqlite mis à jour (offres : ajout), version abc123 -> def456 ; "
        "formations 3, offres 8, recruteurs 0.",
        "Le service en cours bascule de lui-même sur la nouvelle version (WIDGET_RELOAD_INTERVAL).",
    ]
    assert format_result(result).endswith(format_report(report()))
    assert "(offres : remplacement)" in format_result(ImportResult(
        Path("/d"), "offer", "france_travail", Path("/o"), True, RowReport("import"), "a", "b"))
    assert format_result(result, 0).endswith(format_report(report(), 0))


@pytest.mark.parametrize("first_line,fmt", [
    ("intitule_long,cfd,uai_formation", "catalogue"),
    ("id_formation,id_action,intitule", "rco_catalogue"),
    ('"ID_FORMATION";"ID_ACTION"', "rco_catalogue"),          # quoted, semicolons, upper case
    ("onisep_af,cle_ministere_educatif,x", "onisep"),
    ("cle_ministere_educatif,x", "rco"),                      # one column of a signature is not enough
    ("uai_aff;libelle", "parcoursup"),
    ("intitule_long,id_formation,id_action", "catalogue"),    # signatures are checked in order
    ("code INSEE lieu,intitulé", "rco"),                      # anything else: the RCO offer export
    ("id_formation, id_action, intitule", "rco_catalogue"),   # spaces after the commas
])
def test_a_formations_file_is_known_by_its_header(tmp_path, first_line, fmt):
    path = tmp_path / "formations.csv"
    path.write_text(first_line + "\nvalue,value\n", encoding="utf-8")
    assert detect_format("formations", path) == fmt
    assert detect_format("formation", path) == fmt
    zipped = tmp_path / "formations.csv.gz"
    zipped.write_bytes(gzip.compress(path.read_bytes()))
    assert detect_format("formations", zipped) == fmt


def test_a_header_in_another_encoding_is_still_read(tmp_path):
    # Windows-1252 bytes in the header: read with replacement characters (the parser then says
    # what the encoding problem is), the signature columns still found.
    path = tmp_path / "ansi.csv"
    path.write_bytes("id_formation;id_action;intitulé\n".encode("cp1252"))
    assert detect_format("formations", path) == "rco_catalogue"
    path.write_bytes("libellé;code INSEE lieu\n".encode("cp1252"))
    assert detect_format("formations", path) == "rco"


def test_json_is_the_catalogue_and_other_kinds_have_one_format(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('  [{"intitule_long": "CAP"}]', encoding="utf-8")
    assert detect_format("formations", path) == "catalogue"
    assert detect_format("offers", path) == "france_travail" == detect_format("offer", path)
    assert detect_format("recruiters", path) == "lbb"


def test_the_result_as_json():
    result = ImportResult(Path("/srv/dataset.sqlite"), "offer", "france_travail", Path("/tmp/offres.json"),
                          False, RowReport("import", read=8, kept=8), "abc123", "def456", {"offer": 8}, 1.23456)
    assert result.as_dict() == {
        "dataset": "/srv/dataset.sqlite", "kind": "offer", "format": "france_travail", "file": "/tmp/offres.json",
        "mode": "append", "previous_version": "abc123", "version": "def456", "counts": {"offer": 8},
        "seconds": 1.23, "report": RowReport("import", read=8, kept=8).as_dict()}
    replaced = ImportResult(Path("/d"), "offer", "france_travail", Path("/o"), True, RowReport("import"), "a", "b")
    assert replaced.as_dict()["mode"] == "replace"


@pytest.mark.parametrize("where,line", [
    ("Ligne 12", 12), ("Ligne 7", 7), ("Enregistrement 3", 3), ("Fichier offres.json, ligne 140", 140),
    ("Une ligne", 0), ("Ligne 7a", 0), (None, 0),
])
def test_the_line_a_record_came_from(where, line):
    from widget_server.ingest.importer import _line

    assert _line({} if where is None else {"_where": where}) == line


def test_append_rejects_the_keys_already_served():
    import sqlite3

    from widget_server.ingest.importer import _reject_existing

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE offer (key TEXT)")
    db.executemany("INSERT INTO offer VALUES (?)", [("k1",), ("k2",)])
    records = [{"key": "k1", "_where": "Ligne 4"}, {"key": "new"}, {"key": "k2"}, {"key": "new2"}]
    r = RowReport("import", read=4, kept=4)
    _reject_existing(db, "offer", records, r)
    assert records == [{"key": "new"}, {"key": "new2"}] and r.kept == 2
    assert [(x.line, x.reason, x.message) for x in r.rejects] == [
        (4, "duplicate", "Ligne 4 : « k1 » est déjà dans le jeu de données (import en ajout) : ignorée."),
        (0, "duplicate", "Une ligne : « k2 » est déjà dans le jeu de données (import en ajout) : ignorée."),
    ]


def test_the_message_when_no_row_is_valid():
    from widget_server.ingest.importer import _nothing_message

    r = RowReport("import", read=3)
    r.reject(2, "bad_siret", "x")
    r.reject(3, "bad_siret", "x")
    r.reject(4, "no_coordinates", "x")
    tail = ("Les offres en service restent en place (un import ne les remplace jamais par rien) et le jeu de "
            "données servi n'a pas changé. Corrigez le fichier d'après les rejets listés.")
    assert _nothing_message(Path("/tmp/offres.json"), "offer", r) == (
        "Aucune ligne valide dans offres.json (3 lue(s) ; rejets : bad_siret × 2, no_coordinates × 1). " + tail)
    assert _nothing_message(Path("/tmp/offres.json"), "offer", RowReport("import")) == (
        "Aucune ligne valide dans offres.json (0 lue(s) ; rejets : aucune ligne). " + tail)


def test_the_command_arguments():
    import argparse

    from widget_server.ingest.importer import add_import_arguments

    parser = argparse.ArgumentParser()
    add_import_arguments(parser)
    args = parser.parse_args(["offers", "offres.json"])
    assert (args.kind, args.file, args.fmt, args.append, args.json, args.rejects) == (
        "offers", Path("offres.json"), None, False, False, 20)
    args = parser.parse_args(["formations", "f.csv", "--format", "rco-catalogue", "--append", "--json",
                              "--rejects", "-1"])
    assert (args.fmt, args.append, args.json, args.rejects) == ("rco-catalogue", True, True, -1)
    for wrong in (["jobs", "f.csv"], ["formations", "f.csv", "--format", "xml"], ["offers"]):
        with pytest.raises(SystemExit):
            parser.parse_args(wrong)


def test_the_command_help_says_each_option():
    import argparse

    from widget_server.ingest.importer import add_import_arguments

    parser = argparse.ArgumentParser(prog="widget-server data import",
                                     formatter_class=lambda prog: argparse.HelpFormatter(prog, width=300))
    add_import_arguments(parser)
    text = parser.format_help()
    assert ("usage: widget-server data import [-h] [--format {catalogue,rco,rco-catalogue,onisep,parcoursup,"
            "france-travail,lbb}] [--append] [--json] [--rejects N] {formations,offers,recruiters} file") in text
    lines = [line.rstrip() for line in text.splitlines()]
    for option, help_text in [
        ("file", "file to import (may be gzipped)"),
        ("--format {catalogue,rco,rco-catalogue,onisep,parcoursup,france-travail,lbb}",
         "file format (default: guessed from the file; formations: catalogue JSON/CSV, RCO offer export, "
         "RCO catalogue, ONISEP 2023 keys or Parcoursup)"),
        ("--append", "add to the items of that kind instead of replacing them (known keys rejected)"),
        ("--json", "print the full report as JSON"),
        ("--rejects N", "rejected rows to list (default 20, -1 for all)"),
    ]:
        # The option, then its help alone after it (on its line, or the next when the option is long).
        at = [i for i, line in enumerate(lines) if line.strip() == option or line.strip().startswith(option + "  ")]
        assert at, (option, text)
        here, following = lines[at[0]], lines[at[0] + 1] if at[0] + 1 < len(lines) else ""
        assert here.endswith("  " + help_text) or following.strip() == help_text, (option, text)


def test_the_test_only_pause_hook(monkeypatch, capsys):
    from widget_server.ingest import importer

    slept = []
    monkeypatch.setattr(importer.time, "sleep", slept.append)
    monkeypatch.delenv(importer.PAUSE_ENV, raising=False)
    importer._pause("parsed")
    assert (capsys.readouterr().err, slept) == ("", [])
    monkeypatch.setenv(importer.PAUSE_ENV, "copied:1.5, parsed:0.25,inserted")
    for phase in ("parsed", "finalized", "copied", "inserted"):
        importer._pause(phase)
    assert capsys.readouterr().err == "widget-import-pause parsed\nwidget-import-pause copied\nwidget-import-pause inserted\n"
    assert slept == [0.25, 1.5, 0.0]
