"""Parse and validate the search parameters into one SearchQuery, collecting every error at once.

La Bonne Alternance's names are accepted where they mean the same thing:
`lat`/`lon` for `latitude`/`longitude`, `zipcode` for `postal_code`, `sources`
(with its values `formations`, `offres`, `matcha`, `lba`, `lbb`) for `types`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams

from widget_server.caller import CALLER_RE
from widget_server.referentials.communes import Commune, CommuneIndex
from widget_server.web.params import ParamReader

TYPES = ("formations", "offers", "recruiters")
SORTS = ("distance", "date", "relevance", "employment")
ALIASES = {"lat": "latitude", "lon": "longitude", "zipcode": "postal_code", "sources": "types"}
# La Bonne Alternance's source names, mapped to ours.
LBA_SOURCES = {"formations": "formations", "formation": "formations", "offres": "offers",
               "matcha": "offers", "pejob": "offers", "partnerjob": "offers", "lba": "recruiters",
               "lbb": "recruiters"}
ROME_RE = re.compile(r"^[A-Za-z][0-9]{4}$")
MAX_ROMES = 20
DEFAULT_RADIUS, MAX_RADIUS = 30, 200
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_PAGE = 50


@dataclass(frozen=True)
class Centre:
    latitude: float
    longitude: float
    given_by: str                 # "coordinates", "insee" or "postal_code"
    commune: Commune | None       # resolved commune (nearest one for coordinates)


@dataclass(frozen=True)
class SearchQuery:
    caller: str
    romes: tuple[str, ...]
    centre: Centre | None         # None: France-wide
    radius_km: int
    types: tuple[str, ...]
    diploma: int | None
    sort: str
    limit: int
    page: int

    def cache_key(self) -> tuple[Any, ...]:
        """Everything that changes the answer (the caller does not)."""
        centre = None if self.centre is None else (round(self.centre.latitude, 5), round(self.centre.longitude, 5))
        return (self.romes, centre, self.radius_km, self.types, self.diploma, self.sort, self.limit, self.page)


def parse_search_query(params: QueryParams, romes_known: dict[str, str], communes: CommuneIndex) -> SearchQuery:
    """A valid SearchQuery, or InvalidParameters listing every problem."""
    r = ParamReader(params, ALIASES)
    caller = r.text("caller", required=True, max_len=100)
    if caller is not None and not CALLER_RE.match(caller):
        r.error("caller", "bad_format", "« caller » (l'identifiant de votre site) ne peut contenir que des lettres, "
                "des chiffres et les caractères . _ @ - (ex. mon-site.fr).")
        caller = None
    romes = _romes(r, romes_known)
    centre = _centre(r, communes)
    radius = r.integer("radius", lo=1, hi=MAX_RADIUS, default=DEFAULT_RADIUS)
    types = _types(r)
    diploma = _diploma(r)
    sort = r.choice("sort", SORTS, default="distance")
    limit = r.integer("limit", lo=1, hi=MAX_LIMIT, default=DEFAULT_LIMIT)
    page = r.integer("page", lo=1, hi=MAX_PAGE, default=1)
    r.reject_unknown()
    r.raise_if_errors()
    assert caller and romes and radius and types and sort and limit and page
    return SearchQuery(caller, romes, centre, radius, types, diploma, sort, limit, page)


def _romes(r: ParamReader, known: dict[str, str]) -> tuple[str, ...]:
    used, raw = r.raw("romes")
    if not raw or not raw.replace(",", "").strip():   # " , " names no code either
        r.error(used, "missing", "Le paramètre « romes » est obligatoire : 1 à 20 codes ROME séparés par des "
                "virgules (ex. romes=D1102,D1104). Trouvez-les avec /api/v1/metiers?q=boulanger.")
        return ()
    codes = [c.strip().upper() for c in raw.split(",") if c.strip()]
    bad = [c for c in codes if not ROME_RE.match(c)]
    if bad:
        r.error(used, "bad_format", f"« romes » : {', '.join(bad[:5])[:80]} n'est pas un code ROME (une lettre "
                "et 4 chiffres, ex. D1102).")
        return ()
    codes = list(dict.fromkeys(codes))
    if len(codes) > MAX_ROMES:
        r.error(used, "too_many", f"« romes » : {len(codes)} codes donnés, {MAX_ROMES} au plus.")
        return ()
    unknown = [c for c in codes if c not in known]
    if unknown:
        r.error(used, "unknown_rome", f"« romes » : code(s) ROME inconnu(s) : {', '.join(unknown[:5])}. "
                "Vérifiez-les avec /api/v1/metiers.")
        return ()
    return tuple(codes)


def _centre(r: ParamReader, communes: CommuneIndex) -> Centre | None:
    lat_name, lat_raw = r.raw("latitude")
    lon_name, lon_raw = r.raw("longitude")
    insee_name, insee = r.raw("insee")
    postal_name, postal = r.raw("postal_code")
    if lat_raw or lon_raw:
        lat = r.number("latitude", lo=-90, hi=90, required=True)
        lon = r.number("longitude", lo=-180, hi=180, required=True)
        if lat is None or lon is None:
            return None
        # As La Bonne Alternance (which required insee with coordinates) and the widget: the coordinates
        # are the centre, the commune only names the place.
        named = communes.get(insee) if insee else None
        if named is None and postal and re.fullmatch(r"\d{5}", postal):
            named = communes.by_postal_code(postal)
        nearest = communes.nearest(lat, lon) if named is None else None
        return Centre(lat, lon, "coordinates", named or (nearest[0] if nearest else None))
    if insee and postal:
        r.error(postal_name, "conflicting_place", f"« {insee_name} » et « {postal_name} » désignent chacun un lieu : "
                "donnez l'un ou l'autre.")
        return None
    if insee:
        commune = communes.get(insee)
        if commune is None:
            r.error(insee_name, "unknown_commune", f"« {insee_name} » : aucune commune n'a le code INSEE « {insee[:10]} »"
                    " (5 caractères, ex. 69123 pour Lyon ; à ne pas confondre avec le code postal).")
            return None
        return Centre(commune.latitude, commune.longitude, "insee", commune)
    if postal:
        commune = communes.by_postal_code(postal) if re.fullmatch(r"\d{5}", postal) else None
        if commune is None:
            r.error(postal_name, "unknown_postal_code", f"« {postal_name} » : aucune commune n'a le code postal "
                    f"« {postal[:10]} » (5 chiffres, ex. 69003).")
            return None
        return Centre(commune.latitude, commune.longitude, "postal_code", commune)
    return None


def _types(r: ParamReader) -> tuple[str, ...]:
    used, raw = r.raw("types")
    if raw is None or raw == "":
        return TYPES
    chosen = set()
    for value in (v.strip() for v in raw.split(",") if v.strip()):
        mapped = value if value in TYPES else (LBA_SOURCES.get(value.lower()) if used == "sources" else None)
        if mapped is None:
            r.error(used, "not_allowed", f"« {used} » : « {value[:30]} » n'est pas un type de résultat ; "
                    "valeurs possibles : formations, offers, recruiters (séparées par des virgules).")
            return TYPES
        chosen.add(mapped)
    if not chosen:
        r.error(used, "empty", f"« {used} » : indiquez au moins un type parmi formations, offers, recruiters.")
        return TYPES
    return tuple(t for t in TYPES if t in chosen)


def _diploma(r: ParamReader) -> int | None:
    used, raw = r.raw("diploma")
    if not raw or raw.upper() == "INDIFFERENT":
        return None
    # La Bonne Alternance sends "5 (BTS, DEUST...)": the level is the first character.
    match = re.fullmatch(r"([3-7])(\s*\(.*\))?", raw)
    if match is None:
        r.error(used, "out_of_range", f"« {used} » : niveau de diplôme de 3 (CAP) à 7 (Master), reçu « {raw[:30]} ».")
        return None
    return int(match.group(1))
