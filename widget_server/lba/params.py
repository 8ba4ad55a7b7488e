"""La Bonne Alternance's v1 API parameters, checked as LBA checked them: every problem at once.

The messages are LBA's own (its partners' code may compare them), collected in
`error_messages` and answered as 400 {"error": "wrong_parameters", "error_messages": [...]}.
Unknown parameters are ignored, as LBA's Express server did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import QueryParams

ROMES_RE = re.compile(r"^[a-zA-Z][0-9]{4}(,[a-zA-Z][0-9]{4})*$")
ROME_DOMAIN_RE = re.compile(r"^[a-zA-Z]$|^[a-zA-Z][0-9]{2}$")
RNCP_RE = re.compile(r"^RNCP\d{2,5}$")
INSEE_RE = re.compile(r"^[0-9][abAB0-9][0-9]{3}$")
DEPARTEMENT_RE = re.compile(r"^[0-9]{2,3}$|^2[abAB]$")
REGIONS = ("01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94")
MAX_ROMES = 20
FRANCE_RADII = (20000, 21000)    # LBA's "France entière" radii
SOURCES = {"formations": "formations", "formation": "formations", "offres": "offers", "peJob": "offers",
           "matcha": "offers", "partnerJob": "offers", "lba": "recruiters", "lbb": "recruiters"}
JOB_SOURCES = ("offres", "peJob", "matcha", "partnerJob", "lba", "lbb")


class WrongParameters(Exception):
    def __init__(self, messages: list[str], error: str = "wrong_parameters") -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.error = error


@dataclass
class LbaQuery:
    caller: str | None = None
    romes: tuple[str, ...] = ()
    rncp: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius: int = 30
    insee: str | None = None
    diploma: int | None = None
    sources: tuple[str, ...] = ()          # LBA's names as given ("" -> all)
    region: str | None = None
    departement: str | None = None
    rome_domain: str | None = None
    opco: str | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def _get(params: QueryParams, name: str) -> str | None:
    value = params.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def _number(raw: str | None) -> float | None:
    try:
        return float(raw.replace(",", ".")) if raw is not None else None   # decimal commas, as on the widget
    except ValueError:
        return None


def parse(params: QueryParams, *, route: str, local_referer: bool, rncp_romes: Any) -> LbaQuery:
    """route: "jobsEtFormations", "formations", "jobs" or "formationsParRegion"."""
    q = LbaQuery()
    m = q.messages
    q.caller = _get(params, "caller")
    if q.caller is None and not local_referer and route in ("jobsEtFormations", "jobs", "formations",
                                                            "formationsParRegion"):
        m.append("caller : caller is missing.")
    _romes(params, q, route, rncp_romes)
    if route == "formationsParRegion":
        _area(params, q)
    else:
        _geo(params, q, route)
    _diploma(params, q)
    if route in ("jobsEtFormations", "jobs"):
        _sources(params, q, route)
    q.opco = _get(params, "opco") or _get(params, "opcoUrl")
    if m:
        raise WrongParameters(m)
    return q


def _romes(params: QueryParams, q: LbaQuery, route: str, rncp_romes: Any) -> None:
    m = q.messages
    romes, rncp, domain = _get(params, "romes"), _get(params, "rncp"), _get(params, "romeDomain")
    if route in ("formations", "formationsParRegion") and domain is not None:
        if romes is not None:
            m.append("romes, romeDomain : You must specify either romes OR romeDomain, not both.")
        elif not ROME_DOMAIN_RE.match(domain):
            m.append("romeDomain : Badly formatted romeDomain. Rome domain must be one letter or one letter "
                     "followed by 2 digit number. ex : A or A12")
        else:
            q.rome_domain = domain.upper()
        return
    if romes is not None and rncp is not None:
        m.append("romes or rncp : You must specify either a rncp code or 1 or more rome codes.")
        return
    if rncp is not None:
        if not RNCP_RE.match(rncp):
            m.append("rncp : Badly formatted rncp code. RNCP code must include 'RNCP' prefix followed by 2 to 5 "
                     "digit number. ex : RNCP12, RNCP12345 ...")
            return
        found = tuple(rncp_romes(rncp))
        if not found:
            m.append(f"rncp : Rncp code not recognized. Please check that it exists. ({rncp})")
            return
        q.rncp, q.romes = rncp, found[:MAX_ROMES]
        return
    if romes is None:
        if route == "formationsParRegion":
            return            # required only France-wide, checked with the area
        m.append("romes or rncp : You must specify at least 1 rome code or a rncp code." if route != "formations"
                 else "romes, romeDomain : You must define at least 1 rome code OR a single romeDomain.")
        return
    compact = romes.replace(" ", "")
    if not ROMES_RE.match(compact):
        m.append("romes : Badly formatted rome codes. Rome code must be one letter followed by 4 digit number. "
                 "ex : A1234")
        return
    codes = tuple(dict.fromkeys(c.upper() for c in compact.split(",")))
    if len(codes) > MAX_ROMES:
        m.append(f"romes : Too many rome codes. Maximum is {MAX_ROMES}.")
        return
    q.romes = codes


def _geo(params: QueryParams, q: LbaQuery, route: str) -> None:
    m = q.messages
    lat_raw = _get(params, "latitude") or _get(params, "lat")
    lon_raw = _get(params, "longitude") or _get(params, "lon")
    if lat_raw is None and lon_raw is None:
        return
    for name, raw, bound in (("latitude", lat_raw, 90), ("longitude", lon_raw, 180)):
        what = "Search center " + name
        value = _number(raw)
        if raw is None:
            m.append(f"{name} : {what} is missing.")
        elif value is None:
            m.append(f"{name} : {what} must be a number.")
        elif not -bound <= value <= bound:
            m.append(f"{name} : {what} must be a number between -{bound} and {bound}.")
        else:
            setattr(q, name, value)
    radius_raw = _get(params, "radius")
    radius = _number(radius_raw)
    if radius_raw is None:
        m.append("radius : Search radius is missing.")
    elif radius is None:
        m.append("radius : Search radius must be a number.")
    elif not (0 <= radius <= 200 or radius in FRANCE_RADII):
        m.append("radius : Search radius must be a number between 0 and 200.")
    else:
        q.radius = int(radius)
    insee = _get(params, "insee")
    # LBA required the commune with coordinates on the combined route (and /jobs for a caller);
    # it only names the place: the coordinates are the centre.
    if route == "jobsEtFormations" or (route == "jobs" and q.caller):
        if insee is None:
            m.append("insee : insee city code is missing.")
    if insee is not None:
        if not INSEE_RE.match(insee):
            m.append("insee : Badly formatted insee city code. Must be 5 digit number.")
        else:
            q.insee = insee.upper()


def _area(params: QueryParams, q: LbaQuery) -> None:
    m = q.messages
    region, dept = _get(params, "region"), _get(params, "departement")
    if region and dept:
        m.append("region, departement : You must define either region OR departement, not both.")
    elif dept is not None:
        if DEPARTEMENT_RE.match(dept):
            q.departement = dept.upper()
        else:
            m.append("departement : Badly formatted departement. departement must be a two digit number or "
                     "three digit number for overseas departments. ex : 01 or 974")
    elif region is not None:
        if region in REGIONS:
            q.region = region
        else:
            m.append(f"region : Badly formatted region. region must be one of the allowed values as described "
                     f"in the api online doc. ex : {', '.join(REGIONS[:3])}...")
    elif not q.romes and not q.rome_domain:
        m.append("region, departement, romes, romeDomain : You must assign a value to at least one of these "
                 "parameters.")


def _diploma(params: QueryParams, q: LbaQuery) -> None:
    raw = _get(params, "diploma")
    if raw is None or raw.upper() == "INDIFFERENT":
        return
    if raw[0] not in "34567":
        q.messages.append('diploma : Optional diploma argument used with wrong value. Should contains only one of '
                          '"3xxx","4xxx","5xxx","6xxx","7xxx". xxx maybe any value')
        return
    q.diploma = int(raw[0])


def _sources(params: QueryParams, q: LbaQuery, route: str) -> None:
    raw = _get(params, "sources")
    if raw is None:
        return
    allowed = JOB_SOURCES if route == "jobs" else tuple(SOURCES)
    values = tuple(v.strip() for v in raw.split(",") if v.strip())
    if not values or any(v not in allowed for v in values):
        q.messages.append("sources : Optional sources argument used with wrong value. Should contains comma "
                          f"separated values among {', '.join(repr(a) for a in allowed)}.")
        return
    q.sources = values
