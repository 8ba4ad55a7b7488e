"""The La Bonne Alternance compatibility routes in the OpenAPI document (tag "LBA compatibility")."""

from __future__ import annotations

import re
from typing import Any

TAG = "LBA compatibility"
S, N, I, B = ({"type": ["string", "null"]}, {"type": ["number", "null"]}, {"type": ["integer", "null"]},
              {"type": ["boolean", "null"]})


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _open(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    # LBA's shapes: the listed fields with their types; clients ignore the others.
    return {"type": "object", "properties": props, "required": list(props) if required is None else required}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [{"type": "null"}, schema]}


ROME = _open({"code": {"type": "string"}, "label": {"type": "string"}}, ["code"])
NAF = _open({"code": S, "label": S})
ITEM = _open({
    "ideaType": {"enum": ["formation", "peJob", "matcha", "lba", "lbb"]}, "title": {"type": "string"},
    "longTitle": S, "id": S, "contact": _nullable({"type": "object"}),
    "place": _open({"distance": N, "fullAddress": S, "city": S, "zipCode": S, "insee": S,
                    "latitude": {"type": ["string", "number"]}, "longitude": {"type": ["string", "number"]}},
                   ["distance", "fullAddress", "city", "latitude", "longitude"]),
    "company": _open({"name": S, "siret": S, "size": S, "headquarter": {"type": "object"}}, ["name", "siret"]),
    "diplomaLevel": {"enum": [None, "3 (CAP...)", "4 (BAC...)", "5 (BTS, DEUST...)", "6 (Licence, BUT...)",
                              "7 (Master, titre ingénieur...)"]},
    "diploma": S, "cfd": S, "rncpCode": S, "rncpLabel": S, "rncpEligibleApprentissage": B, "period": S,
    "capacity": I, "createdAt": S, "lastUpdateAt": S, "onisepUrl": S, "url": S,
    "job": _nullable({"type": "object"}), "romes": {"type": "array", "items": ROME},
    "nafs": _nullable({"type": "array", "items": NAF}), "training": _nullable({"type": "object"}),
    "demo": {"type": "boolean", "description": "Ours: a generated demonstration item (LBA clients ignore it)."},
})
SOURCE_ERROR = _open({"result": {"const": "error"}, "error": {"type": "string"}, "message": {"type": "string"}})
RESULTS = {"oneOf": [{"type": "null"}, _open({"results": {"type": "array", "items": _ref("LbaItem")}}),
                     _ref("LbaSourceError")]}
JOBS = _open({"peJobs": RESULTS, "matchas": RESULTS, "lbaCompanies": RESULTS, "lbbCompanies": RESULTS})
WRONG = _open({"error": {"enum": ["wrong_parameters", "missing_parameters"]},
               "error_messages": {"type": "array", "items": {"type": "string"}, "minItems": 1}})
NOT_FOUND = _open({"error": {"const": "not_found"}, "result": {"const": "not_found"}, "message": {"type": "string"}})
ITEMS = {"type": "array", "items": _ref("LbaItem")}

SCHEMAS = {
    "LbaItem": ITEM, "LbaSourceError": SOURCE_ERROR, "LbaJobs": JOBS, "LbaWrongParameters": WRONG,
    "LbaNotFound": NOT_FOUND,
    "LbaJobsEtFormations": _open({"formations": RESULTS, "jobs": {"oneOf": [{"type": "null"}, _ref("LbaJobs")]}}),
    "LbaFormations": _open({"results": ITEMS}),
    "LbaPeJob": _open({"peJobs": ITEMS}), "LbaMatcha": _open({"matchas": ITEMS}),
    "LbaCompany": {"type": "object", "minProperties": 1, "maxProperties": 1,
                   "properties": {"lbaCompanies": ITEMS, "lbbCompanies": ITEMS}},
    "LbaMetiers": _open({"labelsAndRomes": {"type": "array", "items": _open({
        "label": {"type": "string"}, "romes": {"type": "array", "items": {"type": "string"}},
        "rncps": {"type": "array", "items": {"type": "string"}}, "type": {"enum": ["job", "diploma"]}})}}),
    "LbaMetierLabels": _open({"metiers": {"type": "array", "items": {"type": "string"}}}),
    "LbaIntitules": _open({"coupleAppellationRomeMetier": {"type": "array", "items": _open({
        "appellation": {"type": "string"}, "code_rome": {"type": "string"}, "intitule": {"type": "string"}})}}),
}


def _q(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "string"}}


def _p(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _json(schema: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


GEO = [_q("latitude", "Latitude du centre (avec longitude et radius)."), _q("longitude", "Longitude du centre."),
       _q("radius", "Rayon en km : 0 à 200, ou 20000 (France entière)."),
       _q("insee", "Code INSEE de la commune : obligatoire avec des coordonnées (il nomme le lieu ; les "
                   "coordonnées restent le centre).")]
COMMON = [_q("caller", "Identifiant du site appelant (texte libre, comme sur LBA).", True),
          _q("romes", "Codes ROME séparés par des virgules (20 au plus)."), _q("rncp", "Code RNCP (au lieu de romes)."),
          _q("diploma", "Niveau visé : « 3 (CAP...) » … « 7 (Master, titre ingénieur...) » ou INDIFFERENT."),
          _q("opco", "Accepté ; non appliqué (nos données n'ont pas l'OPCO des entreprises)."),
          _q("opcoUrl", "Accepté ; non appliqué.")]
SOURCES = _q("sources", "formations, offres (ou peJob), matcha, lba, lbb, séparées par des virgules.")


def _op(summary: str, ok: str, params: list[dict[str, Any]], *, not_found: bool = False,
        bad: bool = True) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": _json(ok)}
    if bad:
        responses["400"] = _json("LbaWrongParameters", "Paramètres invalides, tous listés (forme de LBA)")
    if not_found:
        responses["404"] = _json("LbaNotFound", "Élément inexistant (forme de LBA)")
    for status in ("403", "429"):
        responses[status] = {"$ref": "#/components/responses/" + ("Forbidden" if status == "403" else "RateLimited")}
    responses["default"] = {"$ref": "#/components/responses/Error"}
    return {"get": {"tags": [TAG], "summary": summary, "parameters": params, "responses": responses,
                    "description": "Route de La Bonne Alternance (API v1), aussi à l'adresse /api/V1/… ; "
                                   "réponse à sa forme, calculée par notre recherche. Voir docs/lba-migration.md."}}


PATHS = {
    "/api/v1/jobsEtFormations": _op("LBA : formations et emplois", "LbaJobsEtFormations", COMMON + GEO + [SOURCES]),
    "/api/v1/formations": _op("LBA : formations", "LbaFormations",
                              COMMON + GEO[:3] + [_q("romeDomain", "Domaine ROME (A ou A12) au lieu de romes.")]),
    "/api/v1/formations/formation/{id}": _op("LBA : une formation (clé du catalogue, id ONISEP ou le nôtre)",
                                             "LbaFormations", [_p("id")], not_found=True, bad=False),
    "/api/v1/formationsParRegion": _op("LBA : formations d'une région ou d'un département", "LbaFormations",
                                       COMMON + [_q("region", "Code de région."), _q("departement", "Département."),
                                                 _q("romeDomain", "Domaine ROME.")]),
    "/api/v1/jobs": _op("LBA : offres et entreprises", "LbaJobs", COMMON + GEO + [SOURCES]),
    "/api/v1/jobs/job/{id}": _op("LBA : une offre", "LbaPeJob", [_p("id")], not_found=True, bad=False),
    "/api/v1/jobs/matcha/{id}": _op("LBA : une offre (seau matchas)", "LbaMatcha", [_p("id")], not_found=True,
                                    bad=False),
    "/api/v1/jobs/company/{siret}": _op("LBA : une entreprise par SIRET", "LbaCompany",
                                        [_p("siret"), _q("type", "lba (défaut) ou lbb.")], not_found=True),
    "/api/v1/metiers/all": _op("LBA : tous les métiers", "LbaMetierLabels", [], bad=False),
    "/api/v1/metiers/metiersParFormation/{cfd}": _op("LBA : métiers d'un diplôme (CFD)", "LbaMetierLabels",
                                                     [_p("cfd")], bad=False),
    "/api/v1/metiers/metiersParEtablissement/{siret}": _op("LBA : métiers d'un établissement", "LbaMetierLabels",
                                                           [_p("siret")], bad=False),
    "/api/v1/metiers/intitule": _op("LBA : appellations ROME d'un libellé", "LbaIntitules",
                                    [_q("label", "Libellé cherché.", True)]),
}
METIERS_LBA_PARAMS = [_q("title", "LBA : libellé cherché (réponse labelsAndRomes)."),
                      _q("rncps", "LBA : codes RNCP.")]


def add_to(spec: dict[str, Any]) -> dict[str, Any]:
    """Our document, with LBA's routes and the LBA form of /api/v1/metiers (title= instead of q=)."""
    for path, ops in PATHS.items():
        ops["get"]["operationId"] = "lba_" + re.sub(r"[^A-Za-z0-9]+", "_", path[len("/api/v1/"):]).strip("_")
    spec["paths"].update(PATHS)
    spec["components"]["schemas"].update(SCHEMAS)
    metiers = spec["paths"]["/api/v1/metiers"]["get"]
    for param in metiers["parameters"]:
        if param["name"] == "q":
            param["required"] = False
    metiers["parameters"] += METIERS_LBA_PARAMS
    spec["components"]["schemas"]["MetierListOrLba"] = {"oneOf": [_ref("MetierList"), _ref("LbaMetiers")]}
    spec["components"]["schemas"]["ErrorOrLbaWrongParameters"] = {"oneOf": [_ref("Error"),
                                                                            _ref("LbaWrongParameters")]}
    metiers["responses"]["200"]["content"]["application/json"]["schema"] = _ref("MetierListOrLba")
    metiers["responses"]["400"] = _json("ErrorOrLbaWrongParameters", "Paramètres invalides (avec title/romes/"
                                        "rncps sans q : forme de LBA)")
    spec.setdefault("tags", []).append({"name": TAG, "description": "Les routes v1 de La Bonne Alternance, "
                                        "à leur forme (docs/lba-migration.md)."})
    return spec
