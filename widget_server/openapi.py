"""The API contract (OpenAPI 3.1), written once; served at /api/openapi.json and checked by the tests."""

from __future__ import annotations

from typing import Any

from widget_server import __version__
from widget_server.query import DEFAULT_LIMIT, DEFAULT_RADIUS, MAX_LIMIT, MAX_PAGE, MAX_RADIUS, MAX_ROMES, SORTS

NULLABLE_STR = {"type": ["string", "null"]}
NULLABLE_NUM = {"type": ["number", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}


def _obj(props: dict[str, Any], required: list[str] | None = None, extra: bool = False) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props) if required is None else required,
            "additionalProperties": extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


ROME = _obj({"code": {"type": "string", "pattern": "^[A-Z][0-9]{4}$"}, "label": {"type": "string"}})
DEPARTMENT = _obj({"code": {"type": "string"}, "name": {"type": "string"}})
COMPANY = _obj({"name": NULLABLE_STR, "siret": NULLABLE_STR, "naf_code": NULLABLE_STR,
                "naf_label": NULLABLE_STR, "size": NULLABLE_STR})
PLACE = _obj({"distance_km": NULLABLE_NUM, "address": NULLABLE_STR, "city": NULLABLE_STR,
              "postal_code": NULLABLE_STR, "insee": NULLABLE_STR,
              "latitude": {"type": "number"}, "longitude": {"type": "number"},
              "precision": {"enum": ["site", "organisation", "commune", None],
                            "description": "Formations : précision de la position (site de formation, adresse de "
                                           "l'organisme, centre de la commune)."}})
DATES = _obj({"created_at": NULLABLE_STR, "start_date": NULLABLE_STR, "entry_periods": NULLABLE_STR})
ITEM_BASE = {
    "type": {"enum": ["formation", "offer", "recruiter"]},
    "id": {"type": "string"},
    "title": {"type": "string"},
    "place": _ref("Place"),
    "company": _ref("Company"),
    "romes": {"type": "array", "items": _ref("Rome")},
    "diploma_level": {"type": ["integer", "null"], "minimum": 3, "maximum": 7},
    "dates": _ref("Dates"),
    "url": NULLABLE_STR,
    "demo": {"type": "boolean", "description": "Generated demonstration record, not a real one."},
    "source": {"type": "string"},
}
NULLABLE_PCT = {"type": ["integer", "null"], "minimum": -100, "maximum": 100}
OUTCOME = _obj({
    "scope": {"enum": ["cfa", "diploma_region"],
              "description": "cfa : ce CFA, toutes formations ; diploma_region : ce diplôme dans cette région."},
    "label": NULLABLE_STR, "region": NULLABLE_STR,
    "years": {"type": "string", "description": "Années des sortants (« 2023-2024 »)."},
    "employment_6_months": NULLABLE_PCT, "employment_12_months": NULLABLE_PCT,
    "expected_employment_6_months": NULLABLE_PCT, "value_added_6_months": NULLABLE_PCT,
    "further_study": NULLABLE_PCT, "interrupted_contracts": NULLABLE_PCT, "leavers": NULLABLE_INT,
    "source": {"type": "string"},
})
FORMATION_DETAILS = _obj({
    "diploma": NULLABLE_STR, "diploma_type": NULLABLE_STR, "cfd": NULLABLE_STR,
    "rncp": NULLABLE_STR, "training_centre": _ref("Company"), "hours": NULLABLE_INT, "capacity": NULLABLE_INT,
    "catalogue_key": NULLABLE_STR,
    "onisep": {"oneOf": [{"type": "null"}, _obj({"id": {"type": "string"}, "url": {"type": "string"}})]},
    "uai": NULLABLE_STR,
    "intake_months": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 12}},
    "periods": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}},
    "contact": _obj({"email": NULLABLE_STR, "phone": NULLABLE_STR, "website": NULLABLE_STR}),
    "qualiopi": {"type": ["boolean", "null"]},
    "sources": {"type": "array", "items": _obj({"source": {"type": "string"}, "label": {"type": "string"},
                                                "year": {"type": "integer"}})},
    "years_seen": {"type": "array", "items": {"type": "integer"}},
    "outcomes": {"type": "array", "items": _ref("Outcome")},
    "employment_rate": NULLABLE_NUM,
})
OFFER_DETAILS = _obj({"contract_nature": {"enum": ["E2", "FS"]}, "contract_label": {"type": "string"},
                      "contract_type": NULLABLE_STR, "duration_months": NULLABLE_INT,
                      "description": NULLABLE_STR, "appellation": NULLABLE_STR})
RECRUITER_DETAILS = _obj({"hiring_score": {"type": "number", "minimum": 0, "maximum": 100},
                          "hiring_band": {"enum": ["faible", "moyen", "fort", "très fort"]},
                          "email": NULLABLE_STR, "phone": NULLABLE_STR})


def _item(kind: str, details: str) -> dict[str, Any]:
    props = dict(ITEM_BASE, type={"const": kind}, **{kind: _ref(details)})
    return _obj(props)


ERROR = _obj({"error": _obj({
    "code": {"type": "string"},
    "message": {"type": "string"},
    "details": {"type": "array", "items": _obj({"param": {"type": "string"}, "code": {"type": "string"},
                                                "message": {"type": "string"}})},
})})
SOURCE_ERROR = _obj({"error": _obj({"code": {"enum": ["source_timeout", "source_error"]},
                                    "message": {"type": "string"}})})


def _bucket(item: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"oneOf": [
        _obj({"count": {"type": "integer", "minimum": 0, "description": "Résultats dans le rayon."},
              "results": {"type": "array", "items": _ref(item)},
              "next_page": NULLABLE_INT,
              "warning": _obj({"code": {"type": "string"}, "message": {"type": "string"}}),
              "suggested_radius_km": {**NULLABLE_INT, "description":
                                      "Quand la section est vide : le plus petit rayon (km) qui y trouverait "
                                      "quelque chose (null : aucun jusqu'à 200 km, ou recherche sans lieu)."},
              **(extra or {})},
             required=["count", "results", "next_page", *(extra or {})]),
        SOURCE_ERROR,
    ]}


FORMATION_EXTRAS = {
    "nearest": {"type": "array", "maxItems": 5, "items": _ref("Formation"),
                "description": "Quand moins de 5 formations sont dans le rayon : les plus proches au-delà, "
                               "à toute distance, les plus proches d'abord (première page seulement)."},
    "contacts": {"type": "array", "maxItems": 5, "items": _ref("OrganisationContact"),
                 "description": "Quand aucune formation à ce métier n'existe : les organismes de formation du "
                                "même domaine les plus proches, à contacter."},
}
ORGANISATION_CONTACT = _obj({
    "type": {"const": "organisation"}, "id": {"type": "string"}, "name": {"type": "string"},
    "siret": {"type": "string"}, "uai": NULLABLE_STR, "place": _ref("Place"), "email": NULLABLE_STR,
    "qualiopi": {"type": ["boolean", "null"]}, "domains": {"type": "array", "items": {"type": "string"}},
    "trainings": {"type": "integer"}, "source": {"type": "string"},
})


COMMUNE = _obj({"name": {"type": "string"}, "insee": {"type": "string"},
                "postal_codes": {"type": "array", "items": {"type": "string"}},
                "department": _ref("Department"), "latitude": {"type": "number"}, "longitude": {"type": "number"},
                "population": {"type": "integer"}, "kind": {"enum": ["commune", "arrondissement"]}})
METIER = _obj({"label": {"type": "string"}, "kind": {"enum": ["metier", "diplome"]},
               "source": {"enum": ["rome", "lba", "catalogue"],
                          "description": "rome : fiche ou appellation ROME ; lba : regroupement de métiers de La "
                                         "Bonne Alternance (plusieurs codes) ; catalogue : intitulé de formation"},
               "romes": {"type": "array", "items": _ref("Rome")},
               "trainings": {"type": "integer", "minimum": 0,
                             "description": "Formations trouvées en France pour ces codes (diplôme : de cet intitulé)"},
               "offers": {"type": "integer", "minimum": 0,
                          "description": "Offres France Travail de leurs familles ROME (marché, 2021)"},
               "level": {"type": ["integer", "null"], "minimum": 3, "maximum": 7}},
              required=["label", "kind", "source", "romes", "trainings", "offers"])
# How a lookup matched: every word as typed (a prefix), or after correcting one typo per word.
LOOKUP_MATCH = {"match": {"enum": ["prefix", "typo"]},
                "did_you_mean": {"type": ["string", "null"], "description": "La saisie corrigée (match = typo)"}}
COMBINATION = _obj({"score": {"type": "number", "minimum": 0, "maximum": 1},
                    "formation": _ref("Formation"),
                    "employer": {"oneOf": [_ref("Offer"), _ref("Recruiter")]},
                    "distances": _obj({"learner_to_formation_km": NULLABLE_NUM,
                                       "learner_to_employer_km": NULLABLE_NUM,
                                       "formation_to_employer_km": {"type": "number"}})})
SEARCH_QUERY = _obj({
    "caller": {"type": "string"},
    "romes": {"type": "array", "items": _ref("Rome")},
    "place": {"oneOf": [{"type": "null"}, _obj({
        "given_by": {"enum": ["coordinates", "insee", "postal_code"]},
        "latitude": {"type": "number"}, "longitude": {"type": "number"},
        "commune": {"oneOf": [{"type": "null"}, _obj({
            "name": {"type": "string"}, "insee": {"type": "string"},
            "postal_codes": {"type": "array", "items": {"type": "string"}},
            "department": _ref("Department")})]}})]},
    "radius_km": {"type": "integer"}, "types": {"type": "array", "items": {"enum": ["formations", "offers", "recruiters"]}},
    "diploma": NULLABLE_INT, "sort": {"enum": list(SORTS)}, "limit": {"type": "integer"}, "page": {"type": "integer"},
})
SEARCH_META = _obj({
    "took_ms": {"type": "number"}, "dataset_version": {"type": "string"}, "demo": {"type": "boolean"},
    "radius_km": NULLABLE_INT, "fallbacks": {"type": "array", "items": {"type": "string"}},
    "suggested_radius_km": NULLABLE_INT, "cached": {"type": "boolean"},
}, required=["took_ms", "dataset_version", "demo", "radius_km", "fallbacks", "suggested_radius_km"])
MARKET = _obj({
    "romes": {"type": "array", "items": _ref("Rome"), "description": "Codes ROME v3 dont parlent ces chiffres."},
    "offers": {"oneOf": [{"type": "null"}, _obj({
        "count": {"type": "integer", "minimum": 0, "description": "Offres d'emploi ouvertes dans le rayon (tous contrats)."},
        "radius_km": {"type": "integer"}, "date": {"type": "string"}, "source": {"type": "string"}})]},
    "tension": {"oneOf": [{"type": "null"}, _obj({
        "area": _obj({"code": {"type": "string"}, "name": {"type": "string"}}),
        "year": {"type": "integer"}, "source": {"type": "string"},
        "by_rome": {"type": "array", "items": _obj({
            "rome": _ref("Rome"), "level": {"type": "integer", "minimum": 1, "maximum": 5},
            "label": {"enum": ["très faible", "faible", "moyenne", "forte", "très forte"]},
            "offers": NULLABLE_NUM, "job_seekers": NULLABLE_NUM})}})]},
})
SEARCH_RESPONSE = _obj({
    "query": _ref("SearchQuery"),
    "formations": _bucket("Formation", FORMATION_EXTRAS), "offers": _bucket("Offer"), "recruiters": _bucket("Recruiter"),
    "combinations": {"type": "array", "maxItems": 10, "items": _ref("Combination")},
    "market": {"oneOf": [{"type": "null"}, _ref("Market")],
               "description": "Le marché du travail local (recherche avec un lieu) : offres et tension, datées."},
    "meta": _ref("SearchMeta"),
}, required=["query", "combinations", "market", "meta"])
HEALTH = _obj({"status": {"const": "ok"}, "version": {"type": "string"},
               "dataset": _obj({"version": {"type": "string"}, "built_at": NULLABLE_STR, "scale": NULLABLE_STR,
                                "schema_version": NULLABLE_STR}),
               "counts": {"type": "object", "additionalProperties": {"type": "integer"}}})


def _param(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


# Errors with more to say than the shape: who may call (partners) and how fast (rate limits).
_NAMED_ERRORS = {403: "Forbidden", 429: "RateLimited"}
GUARDED = (403, 429)   # what every /api/ route may answer besides its own errors


def _responses(ok: str, *errors: int) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": {"schema": _ref(ok)}}}}
    for status in errors:
        out[str(status)] = {"$ref": f"#/components/responses/{_NAMED_ERRORS.get(status, 'Error')}"}
    out["default"] = {"$ref": "#/components/responses/Error"}
    return out


SEARCH_PARAMS = [
    _param("caller", "Identifiant du site appelant (lettres, chiffres, . _ @ -).",
           {"type": "string", "pattern": "^[A-Za-z0-9._@-]{1,100}$"}, True),
    _param("romes", f"1 à {MAX_ROMES} codes ROME séparés par des virgules.", {"type": "string"}, True),
    _param("latitude", "Latitude du centre (alias lat), avec longitude.", {"type": "number", "minimum": -90, "maximum": 90}),
    _param("longitude", "Longitude du centre (alias lon).", {"type": "number", "minimum": -180, "maximum": 180}),
    _param("insee", "Code INSEE de la commune centre.", {"type": "string"}),
    _param("postal_code", "Code postal de la commune centre (alias zipcode).", {"type": "string", "pattern": "^[0-9]{5}$"}),
    _param("radius", "Rayon en km.", {"type": "integer", "minimum": 1, "maximum": MAX_RADIUS, "default": DEFAULT_RADIUS}),
    _param("types", "Types de résultats (alias sources, avec les noms de La Bonne Alternance).",
           {"type": "string", "default": "formations,offers,recruiters"}),
    _param("diploma", "Niveau de diplôme visé, 3 (CAP) à 7 (Master).", {"type": "integer", "minimum": 3, "maximum": 7}),
    _param("sort", "Ordre des résultats.", {"enum": list(SORTS), "default": "distance"}),
    _param("limit", "Résultats par type et par page.", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
    _param("page", "Page (à partir de 1).", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}),
]


def openapi_spec() -> dict[str, Any]:
    from widget_server.lba.openapi import add_to   # La Bonne Alternance's v1 routes, tagged apart

    return add_to({
        "openapi": "3.1.0",
        "info": {"title": "Alternance widget API", "version": __version__,
                 "description": "Formations en apprentissage, offres d'emploi en alternance et entreprises "
                                "susceptibles de recruter, en une recherche."},
        "paths": {
            "/api/v1/search": {"get": {"summary": "Recherche combinée", "operationId": "search",
                                       "parameters": SEARCH_PARAMS,
                                       "responses": _responses("SearchResponse", 400, *GUARDED) | {
                                           "304": {"description": "Non modifié (If-None-Match)"}}}},
            "/api/v1/metiers": {"get": {"summary": "Autocomplétion des métiers et diplômes", "operationId": "metiers",
                                        "parameters": [_param("q", "Texte saisi (2 caractères au moins).", {"type": "string", "minLength": 2, "maxLength": 100}, True),
                                                       _param("limit", "Nombre de résultats.", {"type": "integer", "minimum": 1, "maximum": 20, "default": 20})],
                                        "responses": _responses("MetierList", 400, *GUARDED)}},
            "/api/v1/communes": {"get": {"summary": "Autocomplétion des communes", "operationId": "communes",
                                         "parameters": [_param("q", "Nom ou code postal (2 caractères au moins).", {"type": "string", "minLength": 2, "maxLength": 100}, True),
                                                        _param("limit", "Nombre de résultats.", {"type": "integer", "minimum": 1, "maximum": 20, "default": 10})],
                                         "responses": _responses("CommuneList", 400, *GUARDED)}},
            "/api/v1/communes/reverse": {"get": {"summary": "Commune la plus proche d'un point", "operationId": "communesReverse",
                                                 "parameters": [_param("latitude", "Latitude (alias lat).", {"type": "number", "minimum": -90, "maximum": 90}, True),
                                                                _param("longitude", "Longitude (alias lon).", {"type": "number", "minimum": -180, "maximum": 180}, True)],
                                                 "responses": _responses("ReverseResult", 400, 404, *GUARDED)}},
            "/healthz": {"get": {"summary": "État du service", "operationId": "health", "responses": _responses("Health")}},
            "/api/openapi.json": {"get": {"summary": "Ce contrat", "operationId": "openapi",
                                          "responses": _responses("OpenAPIDocument", *GUARDED)}},
        },
        "components": {
            "schemas": {
                "Rome": ROME, "Department": DEPARTMENT, "Company": COMPANY, "Place": PLACE, "Dates": DATES,
                "FormationDetails": FORMATION_DETAILS, "Outcome": OUTCOME, "OrganisationContact": ORGANISATION_CONTACT, "OfferDetails": OFFER_DETAILS,
                "RecruiterDetails": RECRUITER_DETAILS,
                "Formation": _item("formation", "FormationDetails"), "Offer": _item("offer", "OfferDetails"),
                "Recruiter": _item("recruiter", "RecruiterDetails"),
                "Combination": COMBINATION, "Market": MARKET, "SearchQuery": SEARCH_QUERY, "SearchMeta": SEARCH_META,
                "SearchResponse": SEARCH_RESPONSE, "Error": ERROR, "Health": HEALTH,
                "OpenAPIDocument": {"type": "object", "required": ["openapi", "info", "paths", "components"]},
                "Commune": COMMUNE, "Metier": METIER,
                "MetierList": _obj({"query": {"type": "string"}, "count": {"type": "integer"}, **LOOKUP_MATCH,
                                    "results": {"type": "array", "maxItems": 20, "items": _ref("Metier")}}),
                "CommuneList": _obj({"query": {"type": "string"}, "count": {"type": "integer"}, **LOOKUP_MATCH,
                                     "results": {"type": "array", "maxItems": 20, "items": _ref("Commune")}}),
                "ReverseResult": _obj({"query": _obj({"latitude": {"type": "number"}, "longitude": {"type": "number"}}),
                                       "result": _obj({**COMMUNE["properties"], "distance_km": {"type": "number"}})}),
            },
            "responses": {"Error": {"description": "Erreur (forme unique)",
                                    "content": {"application/json": {"schema": _ref("Error")}}},
                          "Forbidden": {"description": "Site non autorisé (mode strict) : `unknown_caller` pour un "
                                                       "caller non enregistré, `origin_not_allowed` pour une page "
                                                       "hors de ses origines.",
                                        "content": {"application/json": {"schema": _ref("Error")}}},
                          "RateLimited": {"description": "Trop de requêtes (`rate_limited`) ; réessayer après "
                                                         "Retry-After secondes.",
                                          "headers": {"Retry-After": {"description": "Secondes à attendre.",
                                                                      "schema": {"type": "integer", "minimum": 1}}},
                                          "content": {"application/json": {"schema": _ref("Error")}}}},
        },
    })
