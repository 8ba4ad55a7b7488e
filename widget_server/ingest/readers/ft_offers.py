"""Job offers in France Travail's "Offres d'emploi v2" shape, kept when they are alternance contracts.

A search response is `{"resultats": [...], "filtresPossibles": [...]}`; a plain JSON
array of offers is read the same way.  offer_record() holds the whole field mapping,
so the live France Travail source builds its offers with the very same rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import RowReport
from widget_server.ingest.validate import (
    RowRejected, collect, json_records, load_json, locate, naf_code, point, siret_digits, siret_valid,
    size_band, text, utc_timestamp,
)

SOURCE = "france_travail"
PUBLIC_OFFER_URL = "https://candidat.francetravail.fr/offres/recherche/detail/{id}"

# Years after the bac -> national framework level (France Travail's "Bac+2 ou équivalents"...).
LEVEL_AFTER_BAC = {1: 5, 2: 5, 3: 6, 4: 6}   # 5 years and more: 7


def parse_ft_offers(path: Path, refs: Referentials, source_name: str = SOURCE) -> tuple[list[dict], RowReport]:
    """Offer records from a saved France Travail search response."""
    report = RowReport(source_name)
    offers = json_records(load_json(path), "resultats", path.name)
    records = collect(enumerate(offers, 1),
                      lambda raw, where: offer_record(raw, refs, where=where, notes=report.notes, source=source_name),
                      report, json_index=True)
    return records, report


def offer_record(raw: dict, refs: Referentials, *, where: str = "", notes: Counter[str] | None = None,
                 source: str = SOURCE) -> dict:
    """One France Travail offer as an `offer` row; raises RowRejected (reason, French message) if unusable.

    `notes` collects non-fatal facts (a SIRET dropped, coordinates taken from the commune...).
    """
    notes = notes if notes is not None else Counter()
    offer_id = text(raw.get("id"))
    where = where or f"Offre {offer_id}"
    if not offer_id:
        raise RowRejected("missing_id", f"{where} : identifiant d'offre (id) absent.")
    title = text(raw.get("intitule"))
    if not title:
        raise RowRejected("missing_title", f"{where} : intitulé de l'offre (intitule) absent.")
    nature = contract_nature(raw.get("natureContrat"))
    if nature is None:
        raise RowRejected("not_alternance", f"{where} : nature de contrat « {text(raw.get('natureContrat'))} », "
                                            "ni apprentissage ni professionnalisation.")
    rome = text(raw.get("romeCode")).upper()
    if not refs.is_rome(rome):
        raise RowRejected("unknown_rome", f"{where} : code ROME « {rome} » inconnu." if rome
                          else f"{where} : code ROME (romeCode) absent.")
    try:
        created_at = utc_timestamp(raw.get("dateCreation"))
    except ValueError:
        raise RowRejected("bad_date", f"{where} : date de création illisible « {text(raw.get('dateCreation'))} » "
                                      "(attendu : date ISO 8601, par exemple 2019-05-28T17:01:11+02:00).") from None

    place_raw = raw.get("lieuTravail") or {}
    insee, postal = text(place_raw.get("commune")), text(place_raw.get("codePostal"))
    lat, lon, place = locate(refs, where, point(place_raw.get("latitude"), place_raw.get("longitude")),
                             insee, postal, notes)
    company = raw.get("entreprise") or {}
    siret = siret_digits(company.get("siret"))
    if siret and not siret_valid(siret):
        # France Travail masks some SIRETs (e.g. "00000000000007"): the offer stays, the SIRET goes.
        notes["siret_invalid"] += 1
        siret = ""
    naf = naf_code(raw.get("codeNAF"))
    if naf and not refs.is_naf(naf):
        notes["naf_unknown"] += 1
        naf = ""
    url = text((raw.get("origineOffre") or {}).get("urlOrigine")) or PUBLIC_OFFER_URL.format(id=offer_id)

    return {
        "key": f"ft:{offer_id}",
        "title": title,
        "description": (raw.get("description") or "").strip() or None,   # line breaks are meaningful here
        "romes": [rome],
        "appellation": text(raw.get("appellationlibelle")) or None,
        "contract_nature": nature,
        "contract_type": text(raw.get("typeContrat")) or None,
        "created_at": created_at,
        "start_date": None,   # the v2 API gives no start date
        "duration_months": _months(raw.get("typeContratLibelle")),
        "level": _level(raw.get("formations")),
        "company_name": text(company.get("nom")) or None,
        "company_siret": siret or None,
        "naf": naf or None,
        "size_band": size_band(raw.get("trancheEffectifEtab")),
        "recruiter_key": siret or None,   # recruiters are keyed by SIRET
        "address": None,   # lieuTravail.libelle is "57 - METZ", a place name, not an address
        "postal_code": postal or (place.postal_code if place else None),
        "city": place.name if place else _city(place_raw.get("libelle")),
        "insee": place.insee if place else (insee or None),
        "latitude": lat,
        "longitude": lon,
        "url": url,
        "source": source,
        "demo": False,
    }


def contract_nature(value: Any) -> str | None:
    """"Contrat apprentissage" -> "E2", "Cont. professionnalisation" -> "FS" (codes accepted too)."""
    label = unicodedata.normalize("NFKD", text(value)).encode("ascii", "ignore").decode().casefold()
    if label in ("e2", "fs"):
        return label.upper()
    if "apprenti" in label:
        return "E2"
    if "professionnalisation" in label:
        return "FS"
    return None


def _months(value: Any) -> int | None:
    """"Contrat à durée déterminée - 12 Mois" -> 12."""
    m = re.search(r"(\d+)\s*mois", text(value), re.IGNORECASE)
    return int(m.group(1)) if m else None


def _level(formations: Any) -> int | None:
    """The lowest diploma level the offer asks for ("Bac+2 ou équivalents" -> 5), if any."""
    levels = []
    for f in formations if isinstance(formations, list) else ():
        label = text(f.get("niveauLibelle") if isinstance(f, dict) else "").casefold().replace(" ", "")
        if m := re.match(r"bac\+(\d+)", label):
            levels.append(LEVEL_AFTER_BAC.get(int(m.group(1)), 7))
        elif label.startswith("bac"):
            levels.append(4)
        elif label.startswith(("cap", "bep")):
            levels.append(3)
    return min(levels) if levels else None


def _city(label: Any) -> str | None:
    """"57 - METZ TECHNOPOLE" -> "METZ TECHNOPOLE" (only when the commune is unknown)."""
    return text(label).split(" - ", 1)[-1] or None
