"""Formations from the Catalogue de l'apprentissage, in its API's field names.

The API answers `{"formations": [...], "pagination": {...}}`; a plain JSON array of
formations, or a CSV whose columns carry the same field names, is read the same way.
The catalogue is richer than the RCO export: it gives the training place's
coordinates and ROME codes itself, so the commune and the diploma are only fallbacks.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import ImportFailed, RowReport
from widget_server.ingest.validate import (
    RowRejected, collect, csv_rows, is_json, json_records, known_romes, list_items, load_json, locate,
    paris_month, point, read_bytes, rome_codes, siret_digits, siret_valid, text, utc_timestamp,
)

SOURCE = "catalogue"
# Identifiers, best first: the ministry's key is the one other services (La bonne alternance,
# Parcoursup) use; the catalogue's own id is stable too, and present in older exports.
KEY_FIELDS = ("cle_ministere_educatif", "id", "_id")
TITLE_FIELDS = ("intitule_long", "intitule_court", "intitule_rco", "rncp_intitule")
CSV_REQUIRED = ("intitule_long", "code_commune_insee")


def parse_catalogue(path: Path, refs: Referentials, source_name: str = SOURCE) -> tuple[list[dict], RowReport]:
    """Formation records from a catalogue file (JSON or CSV, by its first character)."""
    report = RowReport(source_name)
    raw = read_bytes(path)
    if is_json(raw):
        formations = json_records(load_json(path, raw), "formations", path.name)
        rows: Any = enumerate(formations, 1)
        json_index = True
    else:
        header, rows = csv_rows(path, CSV_REQUIRED, "d'un export du Catalogue de l'apprentissage", raw)
        if not any(k in header for k in KEY_FIELDS):
            raise ImportFailed(f"Aucune colonne d'identifiant dans {path.name} : il en faut une parmi "
                               f"{', '.join(KEY_FIELDS)}.")
        json_index = False
    records = collect(rows, lambda row, where: formation_record(row, refs, where=where, notes=report.notes,
                                                                source=source_name),
                      report, json_index=json_index)
    return records, report


def formation_record(raw: dict, refs: Referentials, *, where: str = "", notes: Counter[str] | None = None,
                     source: str = SOURCE) -> dict:
    """One catalogue formation as a `formation` row; raises RowRejected when it cannot be used."""
    notes = notes if notes is not None else Counter()
    where = where or f"Formation {text(raw.get('cle_ministere_educatif') or raw.get('id'))}"
    key = next((k for f in KEY_FIELDS if (k := text(raw.get(f)))), "")
    if not key:
        raise RowRejected("missing_id", f"{where} : aucun identifiant ({', '.join(KEY_FIELDS)}).")
    title = next((t for f in TITLE_FIELDS if (t := text(raw.get(f)))), "")
    if not title:
        raise RowRejected("missing_title", f"{where} : intitulé de la formation absent (intitule_long).")

    if raw.get("published") is False:
        # Kept: the export was chosen by the operator (the API filters on published=true when
        # asked); counted so that an export of unpublished formations does not go unnoticed.
        notes["catalogue:unpublished"] += 1
    insee, postal = text(raw.get("code_commune_insee")), text(raw.get("code_postal"))
    coords = _coordinates(raw.get("lieu_formation_geo_coordonnees"))
    if coords is None:
        coords = _coordinates(raw.get("lieu_formation_geo_coordonnees_computed"))
        if coords is not None:
            notes["coordinates:computed"] += 1   # the catalogue's geocoding of the address
    lat, lon, place = locate(refs, where, coords, insee, postal, notes)

    cfd = text(raw.get("cfd")).upper() or None
    rncp = _rncp(raw.get("rncp_code"))
    romes = known_romes(refs, rome_codes(raw.get("rome_codes")), where, notes)
    if not romes:
        # The catalogue leaves rome_codes empty for some titles: the diploma may know them.
        diplomas = [*refs.diplomas_by_cfd.get(cfd or "", ()), *refs.diplomas_by_rncp.get(rncp or "", ())]
        romes = list(dict.fromkeys(r for d in diplomas for r in d.romes))
        notes["rome:from_diploma" if romes else "no_rome"] += 1

    return {
        "key": f"{source}:{key}",
        "title": title,
        "diploma_label": text(raw.get("rncp_intitule")) or text(raw.get("intitule_rco")) or None,
        "diploma_type": text(raw.get("diplome")) or None,
        "level": _level(raw.get("niveau"), notes),
        "cfd": cfd,
        "rncp": rncp,
        "romes": romes,
        "centre_name": _name(raw, "etablissement_gestionnaire"),
        "centre_siret": _siret(raw.get("etablissement_gestionnaire_siret"), notes),
        "trainer_name": _name(raw, "etablissement_formateur"),
        "trainer_siret": _siret(raw.get("etablissement_formateur_siret"), notes),
        "address": text(raw.get("lieu_formation_adresse")) or None,
        "postal_code": postal or (place.postal_code if place else None),
        "city": text(raw.get("localite")) or (place.name if place else None),
        "insee": place.insee if place else (insee or None),
        "latitude": lat,
        "longitude": lon,
        # The site's own point when the file gave one we kept, else the commune's centre.
        "precision": "commune" if place is not None and (lat, lon) == (place.latitude, place.longitude) else "site",
        "entry_periods": _periods(raw.get("periode") or raw.get("date_debut"), where),
        "hours": None,   # the catalogue gives a duration in years ("duree"), not hours
        "capacity": _capacity(raw.get("capacite")),
        "url": text(raw.get("onisep_url")) or None,
        "source": source,
        "demo": False,
    }


def _coordinates(value: Any) -> tuple[float, float] | None:
    """"lat,lon" (the catalogue's order) as a point."""
    parts = text(value).split(",")
    return point(parts[0], parts[1]) if len(parts) == 2 else None


def _rncp(value: Any) -> str | None:
    digits = text(value).upper().removeprefix("RNCP").strip()
    return f"RNCP{int(digits)}" if digits.isdigit() else None


def _level(value: Any, notes: Counter[str]) -> int | None:
    """"4 (BAC...)" -> 4; levels above 7 count as 7 ("bac+5 and above"), as for RCO."""
    m = re.match(r"\s*(\d)", text(value))
    if m and 3 <= int(m.group(1)) <= 8:
        return min(int(m.group(1)), 7)
    notes["level:unknown"] += 1
    return None


def _name(raw: dict, prefix: str) -> str | None:
    # The "enseigne" is the name people know; the legal name says "lycée professionnel...".
    return text(raw.get(f"{prefix}_enseigne")) or text(raw.get(f"{prefix}_entreprise_raison_sociale")) or None


def _siret(value: Any, notes: Counter[str]) -> str | None:
    """A valid SIRET or None: a wrong CFA SIRET costs the link to the CFA, not the formation."""
    digits = siret_digits(value)
    if not digits:
        return None
    if siret_valid(digits):
        return digits
    notes["siret_invalid"] += 1
    return None


def _periods(value: Any, where: str) -> str | None:
    stamps = []
    for item in list_items(value):
        try:
            stamps.append(utc_timestamp(item))
        except ValueError:
            raise RowRejected("bad_date", f"{where} : date d'entrée illisible « {item} » "
                                          "(attendu : date ISO 8601, par exemple 2021-09-01).") from None
    months = dict.fromkeys(paris_month(s) for s in sorted(stamps))
    return ", ".join(months) or None


def _capacity(value: Any) -> int | None:
    raw = text(value)
    return (int(raw) or None) if raw.isdigit() else None   # 0 means "not filled in"
