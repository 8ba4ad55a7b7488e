"""Recruiters from a CSV in La Bonne Boîte's shape (the `etablissements` table of the prediction).

One row per establishment: SIRET, names, NAF code, address, coordinates (x = longitude,
y = latitude) and an apprenticeship hiring score.  The métiers a company is shown for
are not in the file: they are predicted from its NAF code and score (prediction.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from widget_server.ingest.prediction import NafRomeShares, predicted_romes
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import RowReport
from widget_server.ingest.validate import (
    RowRejected, collect, contact, csv_rows, locate, naf_code, number, point, siret_digits, siret_valid,
    size_band, text,
)

SOURCE = "lbb"
REQUIRED = ("siret", "raisonsociale", "codenaf", "codecommune", "coordinates_x", "coordinates_y",
            "score_alternance")


def parse_recruiters(path: Path, refs: Referentials, shares: NafRomeShares,
                     source_name: str = SOURCE) -> tuple[list[dict], RowReport]:
    """Recruiter records from the file; companies with no predicted métier are left out (noted)."""
    report = RowReport(source_name)
    _, rows = csv_rows(path, REQUIRED, "d'un fichier d'établissements La Bonne Boîte")
    records = collect(rows, lambda row, where: recruiter_record(row, refs, shares, where=where,
                                                                notes=report.notes, source=source_name),
                      report)
    return records, report


def recruiter_record(row: dict[str, str], refs: Referentials, shares: NafRomeShares, *, where: str,
                     notes: Counter[str], source: str = SOURCE) -> dict | None:
    """One establishment as a `recruiter` row; None when no métier passes the threshold."""
    siret = siret_digits(row.get("siret"))
    if not siret_valid(siret):
        raise RowRejected("bad_siret", f"{where} : SIRET « {text(row.get('siret'))} » invalide "
                                       "(14 chiffres dont le dernier est une clé de contrôle).")
    # The sign (enseigne) before the legal name, as La Bonne Boîte itself shows companies.
    name = text(row.get("enseigne")) or text(row.get("raisonsociale"))
    if not name:
        raise RowRejected("missing_title", f"{where} : ni raison sociale ni enseigne.")
    naf = naf_code(row.get("codenaf"))
    if not refs.is_naf(naf):
        raise RowRejected("unknown_naf", f"{where} : code NAF « {text(row.get('codenaf'))} » inconnu "
                                         "(attendu : code NAF rév. 2, par exemple 4772A).")
    score = number(row.get("score_alternance"))
    if score is None or not 0 <= score <= 100:
        raise RowRejected("bad_score", f"{where} : score d'alternance « {text(row.get('score_alternance'))} » "
                                       "illisible ou hors de 0 à 100.")
    insee, postal = text(row.get("codecommune")), text(row.get("codepostal"))
    lat, lon, place = locate(refs, where, point(row.get("coordinates_y"), row.get("coordinates_x")),
                             insee, postal, notes)
    romes = predicted_romes(naf, score, shares)
    if not romes:
        # Valid, but it would never show up in a search: not worth a row.
        notes["skipped:no_predicted_rome"] += 1
        return None
    band = size_band(row.get("trancheeffectif"))
    if text(row.get("trancheeffectif")) and band is None:
        notes["size_band:unknown"] += 1   # La Bonne Boîte writes "99"/"NN" for "unknown"
    placeholders = sum(1 for f in ("email", "tel", "website") if text(row.get(f)) and not contact(row.get(f)))
    if placeholders:
        notes["contact:placeholder_dropped"] += placeholders
    street = " ".join(p for p in (text(row.get("numerorue")), text(row.get("libellerue"))) if p)
    return {
        "key": siret,
        "siret": siret,
        "name": name,
        "naf": naf,
        "size_band": band,
        "hiring_score": score,
        "address": street or None,
        "postal_code": postal or (place.postal_code if place else None),
        "city": place.name if place else None,
        "insee": place.insee if place else (insee or None),
        "latitude": lat,
        "longitude": lon,
        "romes": romes,
        # The *_alternance contacts are the ones a company gave for apprentices: they come first.
        "url": contact(row.get("website_alternance")) or contact(row.get("website")),
        "email": contact(row.get("email_alternance")) or contact(row.get("email")),
        "phone": contact(row.get("phone_alternance")) or contact(row.get("tel")),
        "source": source,
        "demo": False,
    }
