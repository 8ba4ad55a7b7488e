"""`widget-server data import`: load a real file into the dataset, never losing the one being served.

The serving file is never written to.  The import reads it, copies it beside itself
(`build.temporary_path`), changes the copy (the items of one kind replaced, or added
to), re-indexes it with `build.finalize`, checks it, fsyncs it and only then renames
it over the serving file.  Anything short of that (a bad file, no valid row, an
exception, a kill) leaves the serving file byte-for-byte as it was; a running service
notices the rename and switches to the new file by itself (store.database).

Test-only hook: WIDGET_IMPORT_TEST_PAUSE="phase:seconds[,phase:seconds]" makes the import
announce `widget-import-pause <phase>` on stderr and sleep there (phases: parsed, copied,
inserted, finalized), so a test can kill it midway.  Never set it in production.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, TextIO

from widget_server.ingest.build import finalize, temporary_path
from widget_server.ingest.files import sha256
from widget_server.ingest.limits import check_file
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import ImportFailed, RowReport
from widget_server.ingest.validate import is_json, read_bytes
from widget_server.links import clean_record_urls
from widget_server.settings import Settings
from widget_server.store.database import connect_readonly
from widget_server.store.writer import insert_items

KINDS = {"formations": "formation", "offers": "offer", "recruiters": "recruiter",
         "formation": "formation", "offer": "offer", "recruiter": "recruiter"}
# The catalogue formats: our JSON/CSV, and the real files the build merges (catalogue/step.py).
CATALOGUE_FORMATS = {"rco": "rco_2020_06", "rco_catalogue": "rco_2020_11", "onisep": "onisep_2023",
                     "parcoursup": "parcoursup_2020"}
FORMATS = {"formation": ("catalogue", *CATALOGUE_FORMATS), "offer": ("france_travail",), "recruiter": ("lbb",)}
# Header columns that tell each real catalogue format apart (checked in this order).
FORMAT_SIGNATURES = (("catalogue", ("intitule_long",)), ("rco_catalogue", ("id_formation", "id_action")),
                     ("onisep", ("onisep_af", "cle_ministere_educatif")), ("parcoursup", ("uai_aff",)))
KIND_LABELS = {"formation": "formations", "offer": "offres", "recruiter": "recruteurs"}
PAUSE_ENV = "WIDGET_IMPORT_TEST_PAUSE"


class NothingToImport(ImportFailed):
    """Every row was rejected: replacing a kind by nothing is refused.  Carries the report."""

    def __init__(self, message: str, report: RowReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class ImportResult:
    dataset_path: Path
    kind: str                 # "formation", "offer" or "recruiter"
    fmt: str
    file: Path
    replace: bool
    report: RowReport
    previous_version: str
    version: str
    counts: dict[str, int] = field(default_factory=dict)   # items of each kind now served
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": str(self.dataset_path), "kind": self.kind, "format": self.fmt,
                "file": str(self.file), "mode": "replace" if self.replace else "append",
                "previous_version": self.previous_version, "version": self.version, "counts": self.counts,
                "seconds": round(self.seconds, 2), "report": self.report.as_dict()}


def import_file(dataset_path: Path, kind: str, file: Path, *, fmt: str | None = None, replace: bool = True,
                data_dir: Path | None = None, now: dt.datetime | None = None,
                max_mb: float | None = None) -> ImportResult:
    """Import `file` as items of `kind` into the dataset at `dataset_path`, atomically.

    replace=True: the file's items replace every item of that kind (what "load the real
    source" means); replace=False: they are added, a key already present being rejected.
    Raises ImportFailed (nothing changed) when the file is unusable or has no valid row.
    """
    started = time.perf_counter()
    table = KINDS.get(kind)
    if table is None:
        raise ValueError(f"unknown kind {kind!r}; choose one of formations, offers, recruiters")
    check_file(file, int((max_mb if max_mb is not None else Settings.from_env().import_max_mb) * 1024 * 1024))
    fmt = (fmt or detect_format(table, file)).replace("-", "_")
    if fmt not in FORMATS[table]:
        raise ImportFailed(f"Le format « {fmt} » ne convient pas aux {KIND_LABELS[table]} : "
                           f"formats possibles : {', '.join(FORMATS[table])}.")
    if not dataset_path.exists():
        raise ImportFailed(f"Aucun jeu de données à {dataset_path} : construisez-le d'abord "
                           "(widget-server data build), puis importez.")
    with _import_lock(dataset_path):
        _remove_stale_temporaries(dataset_path)
        src = connect_readonly(dataset_path)
        try:
            refs = Referentials(src)
            previous = dict(src.execute("SELECT key, value FROM meta"))
            records, report, organisations = _parse_bounded(fmt, file, refs, src, data_dir)
            clean_record_urls(records, lambda record, message: report.fix(
                _line(record), "unsafe_url", f"{record.get('_where', 'Une ligne')} : {message}"))
            _pause("parsed")
            if not replace:
                _reject_existing(src, table, records, report)
            if not records:
                raise NothingToImport(_nothing_message(file, table, report), report)
            tmp = temporary_path(dataset_path)
            tmp.unlink(missing_ok=True)
            try:
                meta = _write_copy(src, tmp, table, fmt, file, records, report, replace, now, organisations)
                src.close()
                _pause("finalized")
                os.replace(tmp, dataset_path)
                _fsync_directory(dataset_path.parent)
            except BaseException:
                for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
                    leftover.unlink(missing_ok=True)
                raise
        finally:
            src.close()   # closing twice is harmless
    counts = {k: int(meta.get(f"count.{k}", 0)) for k in FORMATS}
    return ImportResult(dataset_path, table, fmt, file, replace, report, previous.get("version", "?"),
                        meta["version"], counts, time.perf_counter() - started)


def detect_format(kind: str, file: Path) -> str:
    """The format of `file` for items of `kind`: formations come in several (our JSON/CSV,
    the RCO exports, the 2023 ONISEP keys, Parcoursup), told apart by their header."""
    kind = KINDS.get(kind, kind)
    if kind != "formation":
        return FORMATS[kind][0]
    head = read_bytes(file)[:4096]
    if is_json(head):
        return "catalogue"
    first_line = head.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    columns = {c.strip().strip('"') for c in first_line.replace(";", ",").split(",")}
    for fmt, signature in FORMAT_SIGNATURES:
        if all(column in columns for column in signature):
            return fmt
    return "rco"


def _parse(fmt: str, file: Path, refs: Referentials, src: sqlite3.Connection,
           data_dir: Path | None) -> tuple[list[dict], RowReport, list[dict] | None]:
    """(rows, report, organisation rows or None) of the file."""
    # Imported lazily: each format pulls its own dependencies (the catalogue ones load diploma files).
    if fmt == "catalogue":
        from widget_server.ingest.readers.catalogue_json import parse_catalogue
        return (*parse_catalogue(file, refs), None)
    if fmt in CATALOGUE_FORMATS:
        return _parse_catalogue_file(CATALOGUE_FORMATS[fmt], file, refs, src, data_dir)
    if fmt == "france_travail":
        from widget_server.ingest.readers.ft_offers import parse_ft_offers
        return (*parse_ft_offers(file, refs), None)
    from widget_server.ingest.prediction import load_naf_rome_shares
    from widget_server.ingest.readers.recruiters_csv import parse_recruiters
    return (*parse_recruiters(file, refs, load_naf_rome_shares(src)), None)


def _parse_catalogue_file(source: str, file: Path, refs: Referentials, src: sqlite3.Connection,
                          data_dir: Path | None) -> tuple[list[dict], RowReport, list[dict]]:
    """A real catalogue file goes through the build's own merge and enrichment, so an imported
    training is titled, placed, tied to ROME codes and outcomes exactly as a built one."""
    from widget_server.ingest.catalogue.step import Catalogue, read_source
    from widget_server.settings import Settings
    catalogue = Catalogue.load(src, data_dir or Settings.from_env().data_dir, refs)
    records, read_report = read_source(source, file, refs, catalogue.diplomas)
    report = RowReport("import")
    report.read = read_report.read
    report.rejects.extend(read_report.rejects)
    report.notes.update(read_report.notes)
    formations, organisations = catalogue.rows(records, report, source_label="import")
    return formations, report, organisations


def _parse_bounded(fmt: str, file: Path, refs: Referentials, src: sqlite3.Connection,
                   data_dir: Path | None) -> tuple[list[dict], RowReport, list[dict] | None]:
    """_parse, with what Python's parsers raise on hostile content turned into one clear ImportFailed."""
    try:
        return _parse(fmt, file, refs, src, data_dir)
    except RecursionError:
        raise ImportFailed(f"{file.name} : imbrication trop profonde (plus de {sys.getrecursionlimit()} "
                           "niveaux de tableaux ou d'objets JSON) : ce n'est pas un export du catalogue.") from None
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise
        raise ImportFailed(f"{file.name} : un nombre a plus de {sys.get_int_max_str_digits()} chiffres "
                           "(limite de lecture) : corrigez cette valeur.") from None


def _line(record: dict) -> int:
    where = record.get("_where", "")
    return int(where.rsplit(" ", 1)[-1]) if where[-1:].isdigit() else 0


def _reject_existing(src: sqlite3.Connection, table: str, records: list[dict], report: RowReport) -> None:
    """In append mode, a key already served is a duplicate: rejected, never overwritten."""
    existing = {k for (k,) in src.execute(f"SELECT key FROM {table}")}
    kept = []
    for record in records:
        if record["key"] in existing:
            where = record.get("_where", "Une ligne")   # RCO records do not say their line
            report.reject(_line(record), "duplicate", f"{where} : « {record['key']} » est déjà dans le jeu de données "
                                             "(import en ajout) : ignorée.")
            report.kept -= 1
        else:
            kept.append(record)
    records[:] = kept


def _nothing_message(file: Path, table: str, report: RowReport) -> str:
    reasons = ", ".join(f"{reason} × {n}" for reason, n in report.reasons().items()) or "aucune ligne"
    return (f"Aucune ligne valide dans {file.name} ({report.read} lue(s) ; rejets : {reasons}). "
            f"Les {KIND_LABELS[table]} en service restent en place (un import ne les remplace jamais par rien) "
            "et le jeu de données servi n'a pas changé. Corrigez le fichier d'après les rejets listés.")


def _write_copy(src: sqlite3.Connection, tmp: Path, table: str, fmt: str, file: Path, records: list[dict],
                report: RowReport, replace: bool, now: dt.datetime | None,
                organisations: list[dict] | None = None) -> dict[str, str]:
    """Copy the dataset to `tmp`, put the records in, re-index, check, and fsync it."""
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)   # page-level copy of a consistent snapshot
        _pause("copied")
        # The copy is thrown away on any failure, so it needs no journal of its own.
        dst.execute("PRAGMA journal_mode = OFF")
        dst.execute("PRAGMA synchronous = OFF")
        if replace:
            dst.execute(f"DELETE FROM {table}")
            dst.execute("DELETE FROM source_file WHERE name LIKE ?", (f"import/{table}/%",))
        insert_items(dst, table, records)
        if organisations:
            # Organisations already known keep their row (the build's directory is richer).
            from widget_server.ingest.catalogue.step import insert_organisations
            insert_organisations(dst, organisations, replace=False)
        at = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0).isoformat()
        digest = sha256(file)
        dst.execute("INSERT OR REPLACE INTO source_file(name, sha256, rows, version) VALUES (?, ?, ?, ?)",
                    (f"import/{table}/{file.name}", digest, report.read, f"{fmt}, importé le {at[:10]}"))
        _pause("inserted")
        meta = dict(dst.execute("SELECT key, value FROM meta"))
        meta[f"import.{table}"] = json.dumps({
            "file": file.name, "sha256": digest, "format": fmt, "at": at,
            "mode": "replace" if replace else "append", "read": report.read, "kept": report.kept,
            "rejected": len(report.rejects), "reasons": report.reasons(), "notes": dict(sorted(report.notes.items())),
        }, ensure_ascii=False, sort_keys=True)
        finalize(dst, meta, kinds=(table,))   # only this kind changed: the others keep their index
        dst.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(meta.items()))
        dst.commit()
        problem = dst.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":   # never put a damaged file in service
            raise ImportFailed(f"Le jeu de données produit est abîmé ({problem}) : import annulé, rien n'a changé.")
    finally:
        dst.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)   # the rename must not reach the disk before the content does
    finally:
        os.close(fd)
    return meta


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return   # not possible on every platform; the rename itself is atomic anyway
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _import_lock(dataset_path: Path) -> Iterator[None]:
    """One import at a time per dataset: two would each copy the file and the last rename wins."""
    try:
        import fcntl
    except ImportError:   # not POSIX: no lock
        yield
        return
    lock_path = dataset_path.with_name(f".{dataset_path.name}.import.lock")
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ImportFailed(f"Un autre import dans {dataset_path.name} est en cours : "
                               "attendez qu'il se termine puis relancez.") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_stale_temporaries(dataset_path: Path) -> None:
    """Remove copies left by a build or import that was killed (its process is gone)."""
    prefix = f".{dataset_path.name}."
    for path in dataset_path.parent.glob(f"{prefix}*.tmp*"):
        pid = path.name[len(prefix):].split(".tmp", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except OSError:
            pass   # alive, under another user


def _pause(phase: str) -> None:
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return
    for item in spec.split(","):
        name, _, seconds = item.partition(":")
        if name.strip() == phase:
            print(f"widget-import-pause {phase}", file=sys.stderr, flush=True)
            time.sleep(float(seconds or 0))


# ---------------------------------------------------------------- command line

def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `widget-server data import KIND FILE`."""
    parser.add_argument("kind", choices=("formations", "offers", "recruiters"))
    parser.add_argument("file", type=Path, help="file to import (may be gzipped)")
    parser.add_argument("--format", dest="fmt", choices=("catalogue", "rco", "rco-catalogue", "onisep", "parcoursup",
                                                    "france-travail", "lbb"),
                        help="file format (default: guessed from the file; formations: catalogue JSON/CSV, "
                             "RCO offer export, RCO catalogue, ONISEP 2023 keys or Parcoursup)")
    parser.add_argument("--append", action="store_true",
                        help="add to the items of that kind instead of replacing them (known keys rejected)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--rejects", type=int, default=20, metavar="N",
                        help="rejected rows to list (default 20, -1 for all)")


def run_import_command(dataset_path: Path, args: argparse.Namespace, out: TextIO | None = None,
                       err: TextIO | None = None, max_mb: float | None = None) -> int:
    """Run the import the arguments ask for and print its report. 0: imported; 1: refused, nothing changed."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        result = import_file(dataset_path, args.kind, args.file, fmt=args.fmt, replace=not args.append,
                             max_mb=max_mb)
    except ImportFailed as exc:
        report = getattr(exc, "report", None)
        if args.json:
            print(json.dumps({"error": str(exc), "report": report.as_dict() if report else None},
                             ensure_ascii=False, indent=2), file=out)
        elif report is not None:
            print(format_report(report, args.rejects), file=err)
        print(f"Import refusé : {exc}", file=err)
        return 1
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2), file=out)
    else:
        print(format_result(result, args.rejects), file=out)
    return 0


def format_result(result: ImportResult, max_rejects: int = 20) -> str:
    r = result.report
    label = KIND_LABELS[result.kind]
    lines = [
        f"Import des {label} ({result.fmt}) depuis {result.file.name} en {result.seconds:.1f} s.",
        f"Jeu de données {result.dataset_path} mis à jour ({label} : {'remplacement' if result.replace else 'ajout'}), "
        f"version {result.previous_version} -> {result.version} ; "
        + ", ".join(f"{KIND_LABELS[k]} {n}" for k, n in result.counts.items()) + ".",
        "Le service en cours bascule de lui-même sur la nouvelle version (WIDGET_RELOAD_INTERVAL).",
        format_report(r, max_rejects),
    ]
    return "\n".join(lines)


def format_report(r: RowReport, max_rejects: int = 20) -> str:
    skipped = r.read - r.kept - len(r.rejects)
    lines = [f"{r.read} ligne(s) lue(s), {r.kept} importée(s), {len(r.rejects)} rejetée(s)"
             + (f", {skipped} écartée(s) sans erreur (voir remarques)" if skipped > 0 else "") + "."]
    if r.rejects:
        lines.append("Rejets par motif : " + ", ".join(f"{k} {v}" for k, v in r.reasons().items()))
    if r.notes:
        lines.append("Remarques : " + ", ".join(f"{k} {v}" for k, v in sorted(r.notes.items()) if v))
    for x in r.fixes[:max_rejects if max_rejects >= 0 else None]:
        lines.append(f"  {x.line:>7}  {x.reason:<15} {x.message}")
    shown = r.rejects if max_rejects < 0 else r.rejects[:max_rejects]
    if shown:
        lines.append(f"Lignes rejetées ({len(shown)} sur {len(r.rejects)}) :")
        lines += [f"  {x.line:>7}  {x.reason:<15} {x.message}" for x in shown]
    return "\n".join(lines)
