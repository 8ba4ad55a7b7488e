"""Our item envelopes (sources/envelopes.py) -> La Bonne Alternance's v1 item shapes. The only such mapping.

Field names and JSON types follow LBA's real answers (data/samples/lba_api_v1_*.json):
formation coordinates are strings there, job coordinates numbers; fields LBA
filled with null where it knew nothing stay null here. `demo` is ours: LBA's
clients ignore fields they do not know, and a demonstration item must say so.
"""

from __future__ import annotations

import json
from typing import Any

from widget_server.items import Item

# LBA's diploma levels (NIVEAUX_POUR_LBA), by national framework level.
DIPLOMA_LEVELS = {3: "3 (CAP...)", 4: "4 (BAC...)", 5: "5 (BTS, DEUST...)", 6: "6 (Licence, BUT...)",
                  7: "7 (Master, titre ingénieur...)"}
# The envelope fields every LBA item carries, null unless the kind fills them.
COMMON = ("longTitle", "id", "contact", "diplomaLevel", "diploma", "cfd", "rncpCode", "rncpLabel",
          "rncpEligibleApprentissage", "period", "capacity", "createdAt", "lastUpdateAt", "onisepUrl", "url",
          "job", "romes", "nafs", "training")


def _base(idea_type: str, item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"ideaType": idea_type, "title": item["title"]}
    out.update(dict.fromkeys(COMMON))
    out["demo"] = bool(item["demo"])
    return out


def _full_address(place: dict[str, Any]) -> str | None:
    parts = [place.get("address"), " ".join(p for p in (place.get("postal_code"), place.get("city")) if p)]
    text = ", ".join(p for p in parts if p)
    return text or None


def _distance(place: dict[str, Any]) -> float | None:
    return place.get("distance_km")


def _romes(item: Item, labels: bool) -> list[dict[str, str]]:
    return [{"code": r["code"], "label": r["label"]} if labels else {"code": r["code"]} for r in item["romes"]]


def _departement(insee: str | None) -> str | None:
    if not insee:
        return None
    return insee[:3] if insee.startswith("97") else insee[:2]


def formation(item: Item) -> dict[str, Any]:
    f, p, company = item["formation"], item["place"], item["company"]
    centre = f["training_centre"]
    out = _base("formation", item)
    contact = f["contact"]
    out.update({
        "longTitle": item["title"],
        "id": f["catalogue_key"] or item["id"].removeprefix("formation:"),
        "cleMinistereEducatif": f["catalogue_key"],
        "contact": {"email": contact["email"], "phone": contact["phone"]} if contact["email"] or contact["phone"]
        else None,
        "place": {
            "distance": _distance(p), "fullAddress": _full_address(p),
            # LBA's formations gave their coordinates as strings.
            "latitude": str(p["latitude"]), "longitude": str(p["longitude"]),
            "city": p["city"], "address": p["address"], "cedex": None, "zipCode": p["postal_code"],
            "departementNumber": _departement(p["insee"]), "region": None, "insee": p["insee"],
        },
        "company": {
            "name": company["name"], "siret": company["siret"], "id": company["siret"], "uai": f["uai"],
            "headquarter": {"id": centre["siret"], "uai": f["uai"], "type": None, "hasConvention": None,
                            "place": {"address": p["address"], "cedex": None, "zipCode": p["postal_code"],
                                      "city": p["city"]},
                            "name": centre["name"]},
            "place": {"city": p["city"]},
        },
        "diplomaLevel": DIPLOMA_LEVELS.get(item["diploma_level"]),
        "diploma": f["diploma"], "cfd": f["cfd"], "rncpCode": f["rncp"], "rncpLabel": None,
        "rncpEligibleApprentissage": None,
        "period": json.dumps(f["periods"]) if f["periods"] else None,
        "capacity": f["capacity"],
        "onisepUrl": f["onisep"]["url"] if f["onisep"] else None,
        "url": item["url"],
        "romes": _romes(item, labels=False),
        "idRco": None, "idRcoFormation": None,
    })
    return out


def pe_job(item: Item) -> dict[str, Any]:
    o, p, company = item["offer"], item["place"], item["company"]
    out = _base("peJob", item)
    key = item["id"].removeprefix("offer:")
    out.update({
        "id": key,
        "place": {"distance": _distance(p), "insee": p["insee"], "zipCode": p["postal_code"], "city": p["city"],
                  "latitude": p["latitude"], "longitude": p["longitude"], "fullAddress": _full_address(p),
                  "address": p["address"]},
        "company": {"name": company["name"], "siret": company["siret"], "size": company["size"]},
        "diplomaLevel": DIPLOMA_LEVELS.get(item["diploma_level"]),
        "url": item["url"],
        "job": {"id": key, "creationDate": item["dates"]["created_at"], "description": o["description"],
                "contractType": o["contract_type"], "contractDescription": o["contract_label"],
                "duration": f"{o['duration_months']} Mois" if o["duration_months"] else None,
                "jobStartDate": item["dates"]["start_date"]},
        "romes": _romes(item, labels=True),
        "nafs": [{"code": company["naf_code"], "label": company["naf_label"]}] if company["naf_code"] else None,
    })
    return out


def company(item: Item, idea_type: str = "lba") -> dict[str, Any]:
    r, p, c = item["recruiter"], item["place"], item["company"]
    out = _base(idea_type, item)
    address = _full_address(p)
    out.update({
        "id": c["siret"],
        "contact": {"email": r["email"], "phone": r["phone"]} if r["email"] or r["phone"] else None,
        "place": {"distance": _distance(p), "fullAddress": address, "latitude": p["latitude"],
                  "longitude": p["longitude"], "city": p["city"], "address": address, "zipCode": p["postal_code"],
                  "insee": p["insee"]},
        "company": {"name": c["name"], "siret": c["siret"], "size": c["size"], "socialNetwork": "",
                    "url": item["url"] or ""},
        "url": item["url"],
        "romes": _romes(item, labels=True),
        "nafs": [{"code": c["naf_code"], "label": c["naf_label"]}] if c["naf_code"] else None,
    })
    return out


def formations_bucket(bucket: dict[str, Any] | None) -> dict[str, Any] | None:
    """{"results": [...]} for our formations bucket; LBA's fallback: the nearest ones when none is inside."""
    if bucket is None:
        return None
    if "error" in bucket:
        return source_error(bucket)
    items = bucket["results"] or bucket.get("nearest", [])
    return {"results": [formation(i) for i in items]}


def jobs_buckets(offers: dict[str, Any] | None, recruiters: dict[str, Any] | None,
                 sources: tuple[str, ...]) -> dict[str, Any]:
    """LBA's four job buckets: our offers are France Travail's (peJobs), our recruiters LBA's predicted
    companies (lbaCompanies); we hold no LBA recruiter offers (matchas) and no separate LBB list."""
    def wanted(*names: str) -> bool:
        return not sources or any(n in sources for n in names)

    def mapped(bucket: dict[str, Any] | None, fn: Any) -> dict[str, Any] | None:
        if bucket is None:
            return None
        if "error" in bucket:
            return source_error(bucket)
        return {"results": [fn(i) for i in bucket["results"]]}

    return {
        "peJobs": mapped(offers, pe_job) if wanted("offres", "peJob", "partnerJob") else None,
        "matchas": {"results": []} if wanted("matcha") else None,
        "lbaCompanies": mapped(recruiters, company) if wanted("lba") else None,
        "lbbCompanies": {"results": []} if wanted("lbb") else None,
    }


def source_error(bucket: dict[str, Any]) -> dict[str, Any]:
    """LBA's per-source failure object (the other buckets still answer)."""
    return {"result": "error", "error": bucket["error"]["code"], "message": bucket["error"]["message"]}
