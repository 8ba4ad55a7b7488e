"""The national apprenticeship catalogue of November 2020 (RCO, 39,510 training actions).

One row per training *action* (a session of a training, an intake): the catalogue's
`id_formation` groups actions, and several formations may be the same diploma at the
same site (merge.py groups them).  The file gives the three organisations
(gestionnaire, formateur, lieu de formation) by SIRET, UAI, address and INSEE code,
the training site's GPS point, the intake months (`periode`) and, where the address
is a role or institution one, the training's contact e-mail (`email_generique`).
It has no title and no organisation name: those come from the diploma and
organisation files (enrich.py).
"""

from __future__ import annotations

from pathlib import Path

from widget_server.ingest.catalogue.record import (
    TrainingRecord, certif_code, cfd_code, email_address, periods, rncp_code, siret_code, uai_code,
)
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.readers.rows import read_records
from widget_server.ingest.report import RowReport
from widget_server.ingest.validate import RowRejected, point

SOURCE = "rco_2020_11"
YEAR = 2020
FILE = "formations/rco_formations_2020-11.csv"
REQUIRED = ("id_formation", "id_action", "id_certifinfo", "etablissement_formateur_siret",
            "etablissement_lieu_formation_code_insee")
_SITE = "etablissement_lieu_formation_"


def _coordinates(value: str) -> tuple[float, float] | None:
    parts = value.split(",")
    return point(parts[0], parts[1]) if len(parts) == 2 else None


def _count(value: str) -> int | None:
    return int(value) if value.isdigit() and int(value) > 0 else None   # 0 means "not filled in"


def read(path: Path, refs: Referentials, source: str = SOURCE) -> tuple[list[TrainingRecord], RowReport]:
    return read_records(path, REQUIRED, "du catalogue RCO de novembre 2020 (id_formation, id_action...)",
                        source, lambda line, r, report: _record(line, r, refs, source, report))


def _record(line: int, r: dict[str, str], refs: Referentials, source: str, report: RowReport) -> TrainingRecord:
    action = r["id_action"]
    if not action:
        raise RowRejected("missing_id", f"Ligne {line} : identifiant d'action (id_action) absent.")
    insee = r.get(_SITE + "code_insee", "")
    place = refs.place(insee) if insee else None
    if place is None and (postal := r.get(_SITE + "code_postal", "")):
        place = refs.place_by_postal_code(postal.zfill(5))
        if place is not None:
            report.notes["place:postal_code"] += 1
    if place is None:
        raise RowRejected("no_coordinates", f"Ligne {line} : commune du lieu de formation introuvable "
                                            f"(code INSEE « {insee} »).")
    certif, cfd, rncp = certif_code(r["id_certifinfo"]), cfd_code(r.get("cfd")), rncp_code(r.get("rncp_code"))
    if not (certif or cfd or rncp):
        raise RowRejected("no_diploma", f"Ligne {line} : aucun code de diplôme (Certif Info, CFD ou RNCP).")
    trainer = siret_code(r["etablissement_formateur_siret"])
    manager = siret_code(r.get("etablissement_gestionnaire_siret"))
    if not (trainer or manager):
        raise RowRejected("no_organisation", f"Ligne {line} : ni SIRET formateur ni SIRET gestionnaire.")
    gps = _coordinates(r.get(_SITE + "geo_coordonnees", ""))
    if gps is None:
        report.notes["site:no_gps"] += 1
    return TrainingRecord(
        source=source, year=YEAR, source_id=action, line=line, certif=certif, cfd=cfd, rncp=rncp,
        trainer_siret=trainer, trainer_uai=uai_code(r.get("etablissement_formateur_uai")),
        manager_siret=manager, manager_uai=uai_code(r.get("etablissement_gestionnaire_uai")),
        insee=place.insee, postal_code=(r.get(_SITE + "code_postal") or place.postal_code).zfill(5),
        address=" ".join((r.get(_SITE + "adresse") or "").split()),
        latitude=gps[0] if gps else None, longitude=gps[1] if gps else None,
        periods=periods(r.get("periode")), capacity=_count(r.get("capacite", "")),
        email=email_address(r.get("email_generique")),
        extra={"id_formation": r["id_formation"], "published": r.get("published", "")},
    )
