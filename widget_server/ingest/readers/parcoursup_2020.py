"""Apprenticeship programmes listed on Parcoursup in 2020 (4,357 rows: BTS, DUT, MC, DE...).

Parcoursup names the diploma in words ("BTS - Services", "Gestion de la PME - en
apprentissage") and by a MEF code, not by CFD.  A MEF code's digits 4 to 8 are the
CFD's speciality digits (MEF 311·31409·21 = BTS 320·31409, Gestion de la PME), so the
CFD is the BCN code with those digits whose title best matches the speciality's words.
Organisations are given by UAI only (resolved to SIRETs in enrich/merge through the
organisation directory); the site is the commune.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from widget_server.ingest.catalogue.diplomas import Diplomas
from widget_server.ingest.catalogue.record import TrainingRecord, uai_code
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.readers.rows import read_records
from widget_server.ingest.report import RowReport
from widget_server.ingest.validate import RowRejected
from widget_server.text import words

SOURCE = "parcoursup_2020"
YEAR = 2020
FILE = "formations/listeFormationApprentissagePsup.csv"
REQUIRED = ("uai_aff", "codecommune", "libspécialité")
_NOISE = frozenset("en apprentissage option de du des la le les et l d a au aux pour".split())
MIN_OVERLAP = 0.5   # share of the speciality's words the diploma title must contain


def _significant(text: str) -> set[str]:
    return {w for w in words(text) if w not in _NOISE and len(w) > 1}


class CfdFinder:
    """CFD of a Parcoursup row from its MEF code and its speciality's words."""

    def __init__(self, diplomas: Diplomas) -> None:
        self.by_speciality: dict[str, list[tuple[str, set[str]]]] = defaultdict(list)
        self.titles: list[tuple[str, set[str]]] = []
        for cfd, (title, _) in sorted(diplomas.bcn.items()):
            entry = (cfd, _significant(title))
            self.by_speciality[cfd[3:8]].append(entry)
            self.titles.append(entry)

    def find(self, mef: str, speciality: str) -> tuple[str, str]:
        """(CFD or "", how it was found)."""
        wanted = _significant(speciality)
        if not wanted:
            return "", "cfd:no_speciality"
        candidates = self.by_speciality.get(mef[3:8], []) if len(mef) >= 8 else []
        scored = sorted(((len(wanted & t) / len(wanted), -len(t - wanted), cfd) for cfd, t in candidates),
                        reverse=True)
        if scored and scored[0][0] >= MIN_OVERLAP and (len(scored) == 1 or scored[1][:2] != scored[0][:2]):
            return scored[0][2], "cfd:mef"
        return "", "cfd:not_found"


def read(path: Path, refs: Referentials, diplomas: Diplomas,
         source: str = SOURCE) -> tuple[list[TrainingRecord], RowReport]:
    finder = CfdFinder(diplomas)
    return read_records(path, REQUIRED, "de la liste Parcoursup des formations en apprentissage", source,
                        lambda line, r, report: _record(line, r, refs, finder, report, source))


def _record(line: int, r: dict[str, str], refs: Referentials, finder: CfdFinder, report: RowReport,
            source: str) -> TrainingRecord:
    trainer = uai_code(r.get("uai_aff")) or uai_code(r.get("uai_composante"))
    if not trainer:
        raise RowRejected("no_organisation", f"Ligne {line} : UAI de l'établissement absent ou illisible.")
    place = refs.place(r["codecommune"])
    if place is None:
        raise RowRejected("no_coordinates", f"Ligne {line} : commune « {r['codecommune']} » inconnue.")
    speciality = r["libspécialité"].removesuffix("- en apprentissage").strip(" -")
    cfd, how = finder.find(r.get("codemef", ""), speciality)
    report.notes[how] += 1
    if not cfd:
        raise RowRejected("no_diploma", f"Ligne {line} : diplôme « {speciality[:60]} » introuvable dans la BCN "
                                        f"(code MEF « {r.get('codemef', '')} »).")
    kind = r.get("libformation", "").split(" - ")[0].strip()
    return TrainingRecord(
        source=source, year=YEAR, source_id=f"{trainer}:{r.get('codespécialité', '')}:{place.insee}", line=line,
        cfd=cfd, title=f"{kind} {speciality}".strip(), trainer_uai=trainer,
        trainer_name=" ".join(r.get("lib_aff", "").split()), manager_uai=uai_code(r.get("uai_ges")),
        insee=place.insee, postal_code=(r.get("codepostal") or place.postal_code).zfill(5),
    )
