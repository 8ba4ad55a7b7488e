"""The real apprenticeship offer of 25 June 2020 (Réseau des Carif-Oref extract), one formation per row.

The file has neither coordinates nor ROME codes.  Coordinates come from the
commune of the training place.  ROME codes come from the diploma through
Certif Info; but many 2020 diplomas have since been replaced and the 2024
Certif Info file only tags current ones, so when a diploma has no ROME code we
follow its succession links (Certif Info's "ancien" codes, the BCN's old/new
CFDs, France compétences' CFD <-> RNCP kit) to the diplomas that replaced it.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from widget_server.ingest.files import read_csv, read_text, resolve
from widget_server.ingest.reference import CERTIF_INFO, record_source
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import ImportFailed, RowReport
from widget_server.store.writer import insert_items

RCO_FILE = "formations/RCO_20200625_offre_apprentissage.csv"
BCN_FORMATIONS = "diplomes/N_FORMATION_DIPLOME.csv"
KIT = "diplomes/Kit_apprentissage_20231218.csv"

# Header names of the RCO export, as spelled in the file (matched ignoring case and spacing).
COLUMNS = {
    "region": "code-region", "af": "numeroAf", "title": "Nom de la formation",
    "certifinfo": "code-CERTIFINFO", "diploma_type": "Diplôme ou titre visé",
    "diploma_label": "Intitulé du diplôme ou titre", "cfd": "Code scolarité",
    "level_old": "code niveau EN", "level": "code niveau européen",
    "centre_name": "CFA-OFA responsable_nom", "centre_legal": "CFA-OFA raison sociale",
    "centre_siret": "CFA-OFA SIRET (ORESP)", "trainer_siret": "formateur_SIRET",
    "trainer_name": "formateur_RS", "periods": "Périodes d'entrée", "postal": "code postal lieu",
    "insee": "code INSEE lieu", "capacity": "Capacité d'accueil de la formation--pas Lheo",
    "session": "identifiant session--<session numero =...>", "rncp": "code-RNCP--<code-RNCP>",
    "hours": "nombre total d''heures de AF--<nombre-heures-total>",
}
# Without these a row cannot be identified, placed or tied to a diploma; the rest may be absent.
REQUIRED = ("region", "af", "session", "title", "certifinfo", "cfd", "rncp", "postal", "insee")

# The 1969 scale ("code niveau EN", V = CAP ... I = bac+5) to today's, as in diplomes/niveaux_diplome.csv.
OLD_LEVELS = {"5": 3, "4": 4, "3": 5, "2": 6, "1": 7}
MAX_HOPS = 3   # successions seen in the data are 1 or 2 hops long

Node = tuple[str, str]   # ("id" | "cfd" | "rncp", code); "id" is a Certif Info code


def _cfd(value: str | None) -> str:
    value = (value or "").strip().upper()
    return value.zfill(8) if value else ""   # Excel stored CFDs as numbers, eating leading zeros


def _rncp(value: str | None) -> str:
    value = (value or "").strip().upper().removeprefix("RNCP")
    return f"RNCP{int(value)}" if value.isdigit() else ""


def _merge(codes: Iterable[Iterable[str]]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for group in codes:
        out.update(dict.fromkeys(group))
    return tuple(out)


@dataclass
class DiplomaLinks:
    """Certif Info codes -> ROME codes, and links from a diploma code to the codes that
    replaced it (Certif Info, BCN) or name the same diploma (the kit's CFD <-> RNCP)."""

    romes_by_id: dict[str, tuple[str, ...]] = field(default_factory=dict)
    newer: dict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))
    rows: dict[str, int] = field(default_factory=dict)   # rows read per file, for source_file

    @classmethod
    def load(cls, data_dir: Path, refs: Referentials) -> DiplomaLinks:
        links = cls()
        for r in links._read(data_dir, CERTIF_INFO):
            cid = r["Code_Diplome"].strip()
            romes = [c for i in range(1, 6) if refs.is_rome(c := (r[f"Code_Rome_{i}"] or "").strip().upper())]
            # The file repeats a code once per former diploma: merge, never overwrite.
            links.romes_by_id[cid] = _merge((links.romes_by_id.get(cid, ()), romes))
            for old in (("id", (r["Code_Ancien_Diplome"] or "").strip()),
                        ("cfd", _cfd(r["Code_Ancien_Scolarité"])), ("rncp", _rncp(r["Code_Ancien_RNCP"]))):
                if old[1] and old != ("id", cid):
                    links.newer[old].add(("id", cid))
        for r in links._read(data_dir, BCN_FORMATIONS):
            cfd = _cfd(r["FORMATION_DIPLOME"])
            for i in range(1, 8):
                if new := _cfd(r[f"NOUVEAU_DIPLOME_{i}"]):
                    links.newer[("cfd", cfd)].add(("cfd", new))
                if old := _cfd(r[f"ANCIEN_DIPLOME_{i}"]):
                    links.newer[("cfd", old)].add(("cfd", cfd))
        for r in links._read(data_dir, KIT):
            cfd, rncp = _cfd(r["Code_Diplome"]), _rncp(r["Code_RNCP"])
            if cfd and rncp:   # one diploma under two codes: a link both ways
                links.newer[("cfd", cfd)].add(("rncp", rncp))
                links.newer[("rncp", rncp)].add(("cfd", cfd))
        return links

    def _read(self, data_dir: Path, name: str) -> list[dict[str, str]]:
        rows = list(read_csv(resolve(data_dir, name), delimiter=";"))
        self.rows[name] = len(rows)
        return rows

    def _romes(self, refs: Referentials, node: Node) -> tuple[str, ...]:
        kind, code = node
        if kind == "id":
            return self.romes_by_id.get(code, ())
        found = refs.diplomas_by_cfd if kind == "cfd" else refs.diplomas_by_rncp
        return _merge(d.romes for d in found.get(code, ()))

    def _known(self, refs: Referentials, node: Node) -> bool:
        kind, code = node
        table = {"id": self.romes_by_id, "cfd": refs.diplomas_by_cfd, "rncp": refs.diplomas_by_rncp}[kind]
        return code in table or node in self.newer

    def romes(self, refs: Referentials, certif: str, cfd: str, rncp: str) -> tuple[tuple[str, ...], str]:
        """ROME codes of a diploma, and a note saying how they were found (or why not)."""
        start = [n for n in (("id", certif), ("cfd", cfd), ("rncp", rncp)) if n[1]]
        if not start:
            return (), "no_rome:no_diploma_code"
        # The Certif Info code names the exact certification (e.g. one speciality of a
        # diploma whose RNCP code covers three), so it goes first; CFD, then RNCP.
        for node in start:
            if found := self._romes(refs, node):
                return found, f"rome_via:{'certifinfo' if node[0] == 'id' else node[0]}"
        known = any(self._known(refs, n) for n in start)
        seen, frontier = set(start), start
        for _ in range(MAX_HOPS):
            frontier = sorted({m for n in frontier for m in self.newer.get(n, ())} - seen)
            seen.update(frontier)
            # When a diploma was split, all its heirs are equally its successors: merge them.
            if found := _merge(self._romes(refs, n) for n in frontier):
                return found, "rome_via:successor"
        return (), "no_rome:diploma_without_rome" if known else "no_rome:diploma_unknown"


def _level(row_level: str, old_level: str, diploma_levels: set[int | None]) -> tuple[int | None, str]:
    if row_level.isdigit() and 3 <= int(row_level) <= 8:
        # The search offers 3..7, 7 meaning "bac+5 and above": a doctorate-level (8)
        # training belongs there rather than outside every level filter.
        return min(int(row_level), 7), "level:given"
    known = {lv for lv in diploma_levels if lv is not None and lv >= 3}
    if len(known) == 1:
        return min(known.pop(), 7), "level:from_diploma"
    if old_level in OLD_LEVELS:
        return OLD_LEVELS[old_level], "level:from_old_scale"
    return None, "level:unknown"   # levels 1-2 (no qualification) and blanks stay unknown


def _siret(value: str, report: RowReport) -> str | None:
    digits = value.replace(" ", "")
    if not digits.strip("0"):
        return None   # the export writes 0 for "no trainer SIRET"
    if len(digits) == 14 and digits.isdigit():
        return digits
    report.notes["siret_invalid"] += 1
    return None


def _count(value: str, report: RowReport, name: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        report.notes[f"{name}_unreadable"] += 1   # Excel turned some into "10.5", "8,12,5"...
        return None
    return int(value) or None   # 0 means "not filled in", not "no seat" or "no hour"


def _open(path: Path) -> tuple[list[str], Any]:
    try:
        text = read_text(path)
    except UnicodeDecodeError as e:
        raise ImportFailed(
            f"Le fichier {path.name} n'est pas encodé en UTF-8 (octet invalide à la position {e.start}) : "
            "enregistrez-le en UTF-8 puis recommencez."
        ) from None
    except (OSError, EOFError, zlib.error) as e:
        raise ImportFailed(f"Impossible de lire le fichier {path.name} : {e}") from None
    first = text.split("\n", 1)[0]
    # Files re-saved by a French Excel use ";": accept both.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if first.count(";") > first.count(",") else ",")
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportFailed(f"Le fichier {path.name} est vide ou sa première ligne (l'en-tête) est illisible.") from None
    return header, reader


def parse_rco(path: Path, refs: Referentials, source_name: str = "rco", *,
              links: DiplomaLinks | None = None, data_dir: Path | None = None) -> tuple[list[dict], RowReport]:
    """Formation records (dicts keyed by `formation` column) from an RCO export, plain or gzipped.

    Also the entry point for importing an operator's RCO file: raises ImportFailed when the
    file as a whole is unusable; bad rows are rejected one by one with their line number.
    `links` defaults to those of `data_dir` (default: the configured data folder).
    """
    if links is None:
        from widget_server.settings import Settings
        links = DiplomaLinks.load(data_dir or Settings.from_env().data_dir, refs)
    header, reader = _open(path)
    norm = [" ".join(h.split()).casefold() for h in header]
    idx = {k: norm.index(n) for k, col in COLUMNS.items() if (n := " ".join(col.split()).casefold()) in norm}
    missing = [COLUMNS[k] for k in REQUIRED if k not in idx]
    if missing:
        raise ImportFailed(
            f"Colonne(s) obligatoire(s) absente(s) de {path.name} : {', '.join(f'« {m} »' for m in missing)}. "
            "La première ligne doit reprendre l'en-tête de l'export RCO de l'offre d'apprentissage."
        )
    rows = _Rows(idx, refs, links, RowReport(source_name))
    records: list[dict] = []
    next_line = 2
    while True:
        line = next_line
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise ImportFailed(f"{path.name}, ligne {line} : CSV illisible ({e}).") from None
        next_line = reader.line_num + 1   # a quoted field may span several lines
        if any(f.strip() for f in fields):
            if (record := rows.record(fields, line)) is not None:
                records.append(record)
    return records, rows.report


@dataclass
class _Rows:
    """Turns the rows of one file into records, remembering what it saw (duplicates, keys)."""

    idx: dict[str, int]
    refs: Referentials
    links: DiplomaLinks
    report: RowReport
    first_line: dict[tuple[str, ...], int] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)

    def record(self, fields: list[str], line: int) -> dict | None:
        refs, report = self.refs, self.report
        report.read += 1

        def get(name: str) -> str:
            i = self.idx.get(name)
            return " ".join(fields[i].split()) if i is not None and i < len(fields) else ""

        if (same := self.first_line.setdefault(tuple(f.strip() for f in fields), line)) != line:
            report.reject(line, "duplicate", f"Ligne {line} identique à la ligne {same} : ignorée.")
            return None
        af = get("af")
        if not af:
            report.reject(line, "missing_id", f"Ligne {line} : numéro d'action de formation (numeroAf) absent.")
            return None
        title = get("title") or get("diploma_label")
        if not title:
            report.reject(line, "missing_title", f"Ligne {line} : ni nom de formation ni intitulé de diplôme.")
            return None
        insee, postal = get("insee"), get("postal")
        postal = postal.zfill(5) if postal.isdigit() else postal
        place = refs.place(insee) if insee else None
        if place is None:
            place = refs.place_by_postal_code(postal) if postal else None
            if place is None:
                report.reject(line, "no_coordinates",
                              f"Ligne {line} : commune introuvable (code INSEE « {insee} », code postal « {postal} »), "
                              "la formation ne peut pas être placée sur la carte.")
                return None
            # Communes merged without a delegated commune (e.g. Olonne-sur-Mer) keep only their postal code.
            report.notes["place:postal_code"] += 1
        elif place.insee != insee.zfill(5):
            report.notes["place:former_code"] += 1
        certif, cfd, rncp = get("certifinfo"), _cfd(get("cfd")), _rncp(get("rncp"))
        romes, how = self.links.romes(refs, certif, cfd, rncp)
        report.notes[how] += 1
        diplomas = [*refs.diplomas_by_cfd.get(cfd, ()), *refs.diplomas_by_rncp.get(rncp, ())]
        level, level_how = _level(get("level"), get("level_old"), {d.level for d in diplomas})
        report.notes[level_how] += 1
        # numeroAf is only unique within a region, and one action may prepare several
        # certifications (e.g. the three DEAES specialities): all four parts make the key.
        key = f"rco:{get('region')}:{af}:{get('session')}:{certif}"
        if n := self.keys.get(key):
            self.keys[key] = n + 1
            key = f"{key}#{n + 1}"   # same key, different content: keep both, deterministically
            report.notes["duplicate_key"] += 1
        else:
            self.keys[key] = 1
        report.kept += 1
        return {
            "key": key, "title": title, "diploma_label": get("diploma_label") or None,
            "diploma_type": get("diploma_type") or None, "level": level, "cfd": cfd or None,
            "rncp": rncp or None, "romes": list(romes),
            "centre_name": get("centre_name") or get("centre_legal") or None,
            "centre_siret": _siret(get("centre_siret"), report),
            "trainer_name": get("trainer_name") or None, "trainer_siret": _siret(get("trainer_siret"), report),
            "address": None,   # the export has no street address; the city says where
            "postal_code": postal or place.postal_code, "city": place.name, "insee": place.insee,
            "latitude": place.latitude, "longitude": place.longitude,
            "entry_periods": get("periods") or None,
            "hours": _count(get("hours"), report, "hours"), "capacity": _count(get("capacity"), report, "capacity"),
            "url": None, "source": report.source, "demo": False,
        }


def report_facts(report: RowReport, records: list[dict]) -> dict[str, str]:
    """What `data info` shows: rows read and kept, coverage, and the reasons for the rest."""
    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    no_rome = {k.split(":", 1)[1]: v for k, v in report.notes.items() if k.startswith("no_rome:")}
    return {
        "read": str(report.read),
        "kept": str(report.kept),
        "rejected": str(len(report.rejects)),
        "with_coordinates": str(sum(1 for r in records if r["latitude"] is not None)),
        "with_rome": str(sum(1 for r in records if r["romes"])),
        "reasons": compact({"rejected": report.reasons(), "no_rome": no_rome}),
        "notes": compact(dict(report.notes)),
    }


def build_step(conn: sqlite3.Connection, data_dir: Path, refs: Referentials, scale: str) -> dict[str, str]:
    """Load the real 2020 offer (the same at every scale: the national scale adds demo records)."""
    links = DiplomaLinks.load(data_dir, refs)
    records, report = parse_rco(resolve(data_dir, RCO_FILE), refs, links=links)
    insert_items(conn, "formation", records)
    record_source(conn, data_dir, RCO_FILE, report.read, "RCO 2020-06-25")
    # These two shape the ROME codes of formations, so they belong to the dataset's version.
    record_source(conn, data_dir, BCN_FORMATIONS, links.rows[BCN_FORMATIONS], "BCN 2024-03-19")
    record_source(conn, data_dir, KIT, links.rows[KIT], "France compétences 2023-12-18")
    return report_facts(report, records)
