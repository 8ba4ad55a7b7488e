"""The apprenticeship offer of 25 June 2020 (Réseau des Carif-Oref extract, 7,470 rows), one training per row.

The extract names its trainings and organisations in words ("Nom de la formation",
"CFA-OFA responsable_nom", "formateur_RS") where the November 2020 catalogue only has
codes, so it brings titles and organisation names to the merged catalogue.  It has
neither coordinates nor ROME codes: the site is its commune, the ROME codes come from
the diploma (enrich.py).
"""

from __future__ import annotations

import csv
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from widget_server.ingest.catalogue.record import TrainingRecord, certif_code, cfd_code, rncp_code, uai_code
from widget_server.ingest.files import read_text
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import ImportFailed, RowReport

SOURCE = "rco_2020_06"
YEAR = 2020
RCO_FILE = "formations/RCO_20200625_offre_apprentissage.csv"

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
    "uai": "UAI localisation formation (ORESP) map fichier UAI-SIRET Onisep-CO",
}
# Without these a row cannot be identified, placed or tied to a diploma; the rest may be absent.
REQUIRED = ("region", "af", "session", "title", "certifinfo", "cfd", "rncp", "postal", "insee")

# The 1969 scale ("code niveau EN", V = CAP ... I = bac+5) to today's, as in diplomes/niveaux_diplome.csv.
OLD_LEVELS = {"5": 3, "4": 4, "3": 5, "2": 6, "1": 7}


def _siret(value: str, report: RowReport) -> str:
    digits = value.replace(" ", "")
    if not digits.strip("0"):
        return ""   # the export writes 0 for "no trainer SIRET"
    if len(digits) == 14 and digits.isdigit():
        return digits
    report.notes["siret_invalid"] += 1
    return ""


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


def _level(row_level: str, old_level: str) -> int | None:
    if row_level.isdigit() and 3 <= int(row_level) <= 8:
        # The search offers 3..7, 7 meaning "bac+5 and above".
        return min(int(row_level), 7)
    return OLD_LEVELS.get(old_level)   # levels 1-2 (no qualification) and blanks stay unknown


def _months(value: str) -> tuple[int, ...]:
    months = {int(m) for m in value.replace(";", ",").split(",") if m.strip().isdigit() and 1 <= int(m) <= 12}
    return tuple(sorted(months))


def parse_rco(path: Path, refs: Referentials, source_name: str = SOURCE) -> tuple[list[TrainingRecord], RowReport]:
    """Training records from an RCO export (plain or gzipped).

    Also the entry point for importing an operator's RCO file: raises ImportFailed when the
    file as a whole is unusable; bad rows are rejected one by one with their line number.
    """
    header, reader = _open(path)
    norm = [" ".join(h.split()).casefold() for h in header]
    idx = {k: norm.index(n) for k, col in COLUMNS.items() if (n := " ".join(col.split()).casefold()) in norm}
    missing = [COLUMNS[k] for k in REQUIRED if k not in idx]
    if missing:
        raise ImportFailed(
            f"Colonne(s) obligatoire(s) absente(s) de {path.name} : {', '.join(f'« {m} »' for m in missing)}. "
            "La première ligne doit reprendre l'en-tête de l'export RCO de l'offre d'apprentissage."
        )
    rows = _Rows(idx, refs, RowReport(source_name))
    records: list[TrainingRecord] = []
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
    """Turns the rows of one file into records, remembering what it saw (duplicates)."""

    idx: dict[str, int]
    refs: Referentials
    report: RowReport
    first_line: dict[tuple[str, ...], int] = field(default_factory=dict)

    def record(self, fields: list[str], line: int) -> TrainingRecord | None:
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
        report.kept += 1
        # numeroAf is only unique within a region, and one action may prepare several
        # certifications (e.g. the three DEAES specialities): all four parts make the id.
        source_id = f"{get('region')}:{af}:{get('session')}:{get('certifinfo')}"
        return TrainingRecord(
            source=report.source, year=YEAR, source_id=source_id, line=line,
            certif=certif_code(get("certifinfo")), cfd=cfd_code(get("cfd")), rncp=rncp_code(get("rncp")),
            title=title, diploma_type=get("diploma_type"), level=_level(get("level"), get("level_old")),
            trainer_siret=_siret(get("trainer_siret"), report), trainer_uai=uai_code(get("uai")),
            trainer_name=get("trainer_name"),
            manager_siret=_siret(get("centre_siret"), report),
            manager_name=get("centre_name") or get("centre_legal"),
            insee=place.insee, postal_code=postal or place.postal_code,
            months=_months(get("periods")),
            hours=_count(get("hours"), report, "hours"), capacity=_count(get("capacity"), report, "capacity"),
            extra={"diploma_label": get("diploma_label")},
        )
