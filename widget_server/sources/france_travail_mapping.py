"""France Travail "Offres d'emploi v2" offer JSON -> the `Item` envelope.

Field by field (sample: data/samples/esd-offres-happypath.redacted.json):

    id                 "offer:ft-{id}"
    title              intitule
    place              lieuTravail: latitude, longitude, codePostal, commune (INSEE),
                       libelle "57 - METZ TECHNOPOLE" -> address as given, city "METZ TECHNOPOLE";
                       distance_km from the search centre when both have coordinates
    company            entreprise.nom, entreprise.siret, codeNAF (when sent), secteurActiviteLibelle,
                       trancheEffectifEtab
    romes              [{romeCode, label from the ROME referential, else romeLibelle}]
    diploma_level      lowest level among formations[].niveauLibelle ("Bac+2 ou équivalents" -> 5)
    dates.created_at   date part of dateCreation
    offer              contract_nature from natureContrat text, contract_type = typeContrat,
                       duration_months from typeContratLibelle ("... - 12 Mois"), description,
                       appellation = appellationlibelle
    url                origineOffre.urlOrigine (http/https only), else the candidate site's page

dureeTravailLibelle ("35H Horaires normaux") is the weekly working time, not the
contract's length, so it never feeds duration_months.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Mapping

from widget_server.geo import haversine_km
from widget_server.items import Item

log = logging.getLogger("widget_server.sources.france_travail")

DETAIL_URL = "https://candidat.francetravail.fr/offres/recherche/detail/{id}"
CONTRACT_LABELS = {"E2": "Apprentissage", "FS": "Contrat de professionnalisation"}
# Diploma level (3..8) -> France Travail's niveauFormation code, from
# data/diplomes/niveaux_diplome.csv column france_travail_offres_niveau_formation.
NIVEAU_FORMATION = {3: "NV5", 4: "NV4", 5: "NV3", 6: "NV2", 7: "NV1", 8: "NV1"}

_DEPT_PREFIX = re.compile(r"^\s*(?:\d[\dAB]|97\d)\s+-\s+")
_MONTHS = re.compile(r"(\d+)\s*mois\b", re.IGNORECASE)
_YEARS = re.compile(r"(\d+)\s*an(?:s|\(s\))?\b", re.IGNORECASE)
_BAC_PLUS = re.compile(r"bac\s*\+\s*(\d)", re.IGNORECASE)
_ID = re.compile(r"^[A-Za-z0-9]{1,20}$")


class MalformedOffer(ValueError):
    """One offer lacks what every offer must have (id, title): FT's schema may have changed."""


def contract_nature(text: Any) -> str | None:
    """"Contrat apprentissage" -> E2, "Cont. professionnalisation" -> FS (codes accepted too)."""
    if not isinstance(text, str):
        return None
    lowered = text.strip().lower()
    if lowered in ("e2", "fs"):
        return lowered.upper()
    if "apprenti" in lowered:
        return "E2"
    if "professionnalisation" in lowered:
        return "FS"
    return None


def duration_months(text: Any) -> int | None:
    """"Contrat à durée déterminée - 12 Mois" -> 12; "... - 2 An(s)" -> 24; else None."""
    if not isinstance(text, str):
        return None
    if (match := _MONTHS.search(text)) is not None:
        return int(match.group(1))
    if (match := _YEARS.search(text)) is not None:
        return int(match.group(1)) * 12
    return None


def diploma_level(formations: Any) -> int | None:
    """Lowest level asked among the offer's `formations` (FT's niveauLibelle wording)."""
    levels = []
    for formation in formations if isinstance(formations, list) else ():
        label = formation.get("niveauLibelle") if isinstance(formation, dict) else None
        if not isinstance(label, str):
            continue
        if (match := _BAC_PLUS.search(label)) is not None:
            plus = int(match.group(1))
            levels.append(5 if plus <= 2 else 6 if plus <= 4 else 7)
        elif re.search(r"\b(cap|bep)\b", label, re.IGNORECASE):
            levels.append(3)
        elif re.search(r"\bbac\b", label, re.IGNORECASE):
            levels.append(4)
    return min(levels) if levels else None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _url(offer: Mapping[str, Any], offer_id: str) -> str:
    origin = offer.get("origineOffre")
    url = _text(origin.get("urlOrigine")) if isinstance(origin, dict) else None
    # Rendered as a link in partner pages: only plain web URLs, never javascript: & co.
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return DETAIL_URL.format(id=offer_id)


def map_offer(offer: Any, rome_labels: Mapping[str, str], *,
              centre: tuple[float, float] | None) -> Item | None:
    """The envelope of one offer; None when it cannot be shown on our map.

    Raises MalformedOffer when the offer lacks an id or a title.  Returns None
    (a normal case, logged at debug) for offers placed only at department
    level (no coordinates) and for contracts that are neither E2 nor FS.
    """
    if not is_well_formed(offer):
        raise MalformedOffer("offer without a usable id or intitule")
    offer_id, title = offer["id"], offer["intitule"].strip()
    where = offer.get("lieuTravail") if isinstance(offer.get("lieuTravail"), dict) else {}
    lat, lon = _float(where.get("latitude")), _float(where.get("longitude"))
    if lat is None or lon is None:
        log.debug("France Travail offer %s skipped: no coordinates", offer_id)
        return None
    nature = contract_nature(offer.get("natureContrat"))
    if nature is None:
        log.debug("France Travail offer %s skipped: contract %r", offer_id, offer.get("natureContrat"))
        return None
    label = _text(where.get("libelle"))
    distance = None if centre is None else round(haversine_km(centre[0], centre[1], lat, lon), 1)
    company = offer.get("entreprise") if isinstance(offer.get("entreprise"), dict) else {}
    naf = _text(offer.get("codeNAF"))
    rome = _text(offer.get("romeCode"))
    created = _text(offer.get("dateCreation"))
    return {
        "type": "offer",
        "id": f"offer:ft-{offer_id}",
        "title": title,
        "place": {
            "distance_km": distance,
            "address": label,
            "city": _DEPT_PREFIX.sub("", label) if label else None,
            "postal_code": _text(where.get("codePostal")),
            "insee": _text(where.get("commune")),
            "latitude": lat,
            "longitude": lon,
            "precision": None,
        },
        "company": {
            "name": _text(company.get("nom")),
            "siret": _text(company.get("siret")),
            "naf_code": naf.replace(".", "") if naf else None,
            "naf_label": _text(offer.get("secteurActiviteLibelle")),
            "size": _text(offer.get("trancheEffectifEtab")),
        },
        "romes": [{"code": rome, "label": rome_labels.get(rome) or _text(offer.get("romeLibelle")) or rome}]
        if rome else [],
        "diploma_level": diploma_level(offer.get("formations")),
        "dates": {"created_at": created[:10] if created else None, "start_date": None, "entry_periods": None},
        "url": _url(offer, offer_id),
        "demo": False,
        "source": "france_travail",
        "offer": {
            "contract_nature": nature,  # type: ignore[typeddict-item]
            "contract_label": CONTRACT_LABELS[nature],
            "contract_type": _text(offer.get("typeContrat")),
            "duration_months": duration_months(offer.get("typeContratLibelle")),
            "description": _text(offer.get("description")),
            "appellation": _text(offer.get("appellationlibelle")),
        },
    }


def is_well_formed(offer: Any) -> bool:
    """Every offer has a short alphanumeric id and a title; the rest is optional."""
    return (isinstance(offer, dict) and isinstance(offer.get("id"), str) and bool(_ID.match(offer["id"]))
            and _text(offer.get("intitule")) is not None)


def check_offers(offers: list[Any]) -> None:
    """Raise MalformedOffer when a non-empty page has no well-formed offer at all.

    That is a changed schema, and mapping it to an empty list would hide it.
    A few malformed offers among good ones are only dropped (see map_offers).
    """
    if offers and not any(is_well_formed(offer) for offer in offers):
        raise MalformedOffer(f"none of the {len(offers)} offers has an id and a title")


def map_offers(offers: list[Any], rome_labels: Mapping[str, str], *,
               centre: tuple[float, float] | None) -> list[Item]:
    """Envelopes of a page of offers, in order; malformed and unplaceable ones are dropped."""
    items: list[Item] = []
    malformed = 0
    for offer in offers:
        try:
            item = map_offer(offer, rome_labels, centre=centre)
        except MalformedOffer:
            malformed += 1
            continue
        if item is not None:
            items.append(item)
    if malformed:
        log.warning("France Travail: %d of %d offers malformed, dropped", malformed, len(offers))
    return items
