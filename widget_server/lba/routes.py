"""La Bonne Alternance's v1 API routes (/api/v1/... and the /api/V1/... spelling its docs used).

Each route checks LBA's parameters (lba/params.py), runs *our* search or item
lookup, and maps the answer with lba/mapping.py: no second search engine.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from widget_server.lba import mapping
from widget_server.lba.params import FRANCE_RADII, SOURCES, LbaQuery, WrongParameters, parse
from widget_server.query import TYPES, Centre, SearchQuery
from widget_server.sources.lookup import find_item, formations_in_departments, region_departments, romes_of
from widget_server.web import lookups
from widget_server.web.responses import json_response

LBA_LIMIT = 150                 # LBA's cap per source
NO_CALLER = "lba-sans-caller"   # counted apart in the metrics, like the widget's
Handler = Callable[[Request], Awaitable[Response]]


def _wrong(messages: list[str], error: str = "wrong_parameters") -> Response:
    return json_response({"error": error, "error_messages": messages}, status_code=400,
                         headers={"Cache-Control": "no-store"})


def _not_found(message: str) -> Response:
    # Both keys: LBA's routes answered 404 "not_found", its services {result: "not_found", message}.
    return json_response({"error": "not_found", "result": "not_found", "message": message}, status_code=404,
                         headers={"Cache-Control": "no-store"})


def _local_referer(request: Request) -> bool:
    try:
        return urlsplit(request.headers.get("referer", "")).netloc == request.url.netloc
    except ValueError:
        return False


def _rncp_romes(request: Request) -> Callable[[str], list[str]]:
    dataset = request.app.state.datasets.get()
    labels = dataset.extensions["envelopes"].rome_labels

    def find(rncp: str) -> list[str]:
        with dataset.connection() as conn:
            rows = conn.execute("SELECT romes FROM diploma WHERE rncp = ? UNION ALL "
                                "SELECT romes FROM formation WHERE rncp = ?", (rncp, rncp)).fetchall()
        return [c for c in dict.fromkeys(c for (r,) in rows for c in r.split(",") if c) if c in labels]
    return find


def _parse(request: Request, route: str) -> LbaQuery:
    return parse(request.query_params, route=route, local_referer=_local_referer(request),
                 rncp_romes=_rncp_romes(request))


def _search_romes(request: Request, q: LbaQuery) -> tuple[str, ...]:
    if q.rome_domain:
        labels = request.app.state.datasets.get().extensions["envelopes"].rome_labels
        return tuple(sorted(c for c in labels if c.startswith(q.rome_domain)))
    return q.romes


async def _search(request: Request, q: LbaQuery, types: tuple[str, ...]) -> dict[str, Any]:
    """Our own search (and its cache), with LBA's query."""
    dataset = request.app.state.datasets.get()
    communes = dataset.extensions["communes"]
    centre = None
    if q.located:
        assert q.latitude is not None and q.longitude is not None
        # The coordinates are the centre; the commune (insee) only names the place.
        commune = communes.get(q.insee) if q.insee else None
        if commune is None:
            nearest = communes.nearest(q.latitude, q.longitude)
            commune = nearest[0] if nearest else None
        centre = Centre(q.latitude, q.longitude, "coordinates", commune)
    radius = 20000 if q.radius in FRANCE_RADII else max(1, q.radius)
    caller = q.caller or NO_CALLER
    query = SearchQuery(caller=caller[:100], romes=_search_romes(request, q), centre=centre, radius_km=radius,
                        types=tuple(t for t in TYPES if t in types), diploma=q.diploma, sort="distance",
                        limit=LBA_LIMIT, page=1)
    body = await request.app.state.search.body(dataset, query)
    shown = sum(len(body[t].get("results", ())) for t in query.types if t in body)
    request.app.state.caller_stats.record(caller[:100], results=shown,
                                          error=any("error" in body[t] for t in query.types if t in body))
    return body


def _types(q: LbaQuery, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(SOURCES[s] for s in q.sources)) if q.sources else default


def _guard(route: str) -> Callable[[Callable[[Request, LbaQuery], Awaitable[Response]]], Handler]:
    def wrap(fn: Callable[[Request, LbaQuery], Awaitable[Response]]) -> Handler:
        async def handler(request: Request) -> Response:
            try:
                q = _parse(request, route)
            except WrongParameters as problems:
                return _wrong(problems.messages, problems.error)
            return await fn(request, q)
        return handler
    return wrap


@_guard("jobsEtFormations")
async def jobs_et_formations(request: Request, q: LbaQuery) -> Response:
    types = _types(q, TYPES)
    body = await _search(request, q, types)
    formations = mapping.formations_bucket(body.get("formations")) if "formations" in types else None
    jobs = None
    if "offers" in types or "recruiters" in types:
        jobs = mapping.jobs_buckets(body.get("offers"), body.get("recruiters"), q.sources)
    return json_response({"formations": formations, "jobs": jobs})


@_guard("formations")
async def formations(request: Request, q: LbaQuery) -> Response:
    body = await _search(request, q, ("formations",))
    return json_response(mapping.formations_bucket(body.get("formations")))


@_guard("jobs")
async def jobs(request: Request, q: LbaQuery) -> Response:
    types = _types(q, ("offers", "recruiters"))
    body = await _search(request, q, types)
    return json_response(mapping.jobs_buckets(body.get("offers"), body.get("recruiters"), q.sources))


@_guard("formationsParRegion")
async def formations_par_region(request: Request, q: LbaQuery) -> Response:
    dataset = request.app.state.datasets.get()
    departments = [q.departement] if q.departement else region_departments(dataset, q.region) if q.region else []
    items = formations_in_departments(dataset, departments, _search_romes(request, q), q.diploma, LBA_LIMIT)
    return json_response({"results": [mapping.formation(i) for i in items]})


async def formation_by_id(request: Request) -> Response:
    item = find_item(request.app.state.datasets.get(), "formation", request.path_params["id"])
    if item is None:
        return _not_found("Formation non trouvée")
    return json_response({"results": [mapping.formation(item)]})


async def job_by_id(request: Request) -> Response:
    item = find_item(request.app.state.datasets.get(), "offer", request.path_params["id"])
    if item is None:
        return _not_found("Offre non trouvée")
    return json_response({"peJobs": [mapping.pe_job(item)]})


async def matcha_by_id(request: Request) -> Response:
    # We hold no LBA recruiter offers: an offer of ours by its id still answers, in LBA's matcha bucket.
    item = find_item(request.app.state.datasets.get(), "offer", request.path_params["id"])
    if item is None:
        return _not_found("Offre non trouvée")
    return json_response({"matchas": [mapping.pe_job(item) | {"ideaType": "matcha"}]})


async def company_by_siret(request: Request) -> Response:
    kind = request.query_params.get("type") or "lba"
    if kind not in ("lba", "lbb"):
        return _wrong(["type : Optional type argument used with wrong value. Should be 'lba' or 'lbb'."])
    item = find_item(request.app.state.datasets.get(), "recruiter", request.path_params["siret"])
    if item is None:
        return _not_found("Société non trouvée")
    return json_response({f"{kind}Companies": [mapping.company(item, kind)]})


# --- métiers --------------------------------------------------------------------------------------

def metiers_or_lba(ours: Handler) -> Handler:
    """/api/v1/metiers: La Bonne Alternance's when called with its parameters (`title`, `romes`, `rncps`)
    and without ours (`q`); ours otherwise (its error names `q`)."""
    async def handler(request: Request) -> Response:
        params = request.query_params
        if "q" not in params and any(n in params for n in ("title", "romes", "rncps")):
            return await lba_metiers(request)
        return await ours(request)
    return handler


async def lba_metiers(request: Request) -> Response:
    params = request.query_params
    title, romes, rncps = (params.get(n, "").strip() for n in ("title", "romes", "rncps"))
    if not (title or romes or rncps):
        return _wrong(["Parameters must include at least one from 'title', 'romes' and 'rncps'",
                       "(ou « q », le texte saisi, pour la réponse de ce service : /api/docs)"],
                      "missing_parameters")
    ext = request.app.state.datasets.get().extensions
    labels = ext["envelopes"].rome_labels
    found: list[dict[str, Any]] = []
    if title:
        for r in ext["metiers"].search(title[:100], 20):
            found.append({"label": r["label"], "romes": [x["code"] for x in r["romes"]], "rncps": [],
                          "type": "diploma" if r["kind"] == "diplome" else "job"})
    for code in (c.strip().upper() for c in romes.split(",") if c.strip()):
        if code in labels:
            found.append({"label": labels[code], "romes": [code], "rncps": [], "type": "job"})
    rncp_romes = _rncp_romes(request)
    for rncp in (c.strip().upper() for c in rncps.split(",") if c.strip()):
        codes = rncp_romes(rncp)
        if codes:
            found.append({"label": " / ".join(labels[c] for c in codes[:3]), "romes": codes, "rncps": [rncp],
                          "type": "diploma"})
    return json_response({"labelsAndRomes": found}, max_age=lookups.LOOKUP_MAX_AGE)


async def metiers_all(request: Request) -> Response:
    labels = request.app.state.datasets.get().extensions["envelopes"].rome_labels
    return json_response({"metiers": sorted(set(labels.values()))}, max_age=lookups.LOOKUP_MAX_AGE)


async def metiers_par_formation(request: Request) -> Response:
    dataset = request.app.state.datasets.get()
    labels = dataset.extensions["envelopes"].rome_labels
    codes = romes_of(dataset, cfd=request.path_params["cfd"][:20])
    return json_response({"metiers": sorted({labels[c] for c in codes if c in labels})})


async def metiers_par_etablissement(request: Request) -> Response:
    dataset = request.app.state.datasets.get()
    labels = dataset.extensions["envelopes"].rome_labels
    codes = romes_of(dataset, siret=request.path_params["siret"][:20])
    return json_response({"metiers": sorted({labels[c] for c in codes if c in labels})})


async def metiers_intitule(request: Request) -> Response:
    label = request.query_params.get("label", "").strip()
    if not label:
        return _wrong(["label : Le paramètre « label » est obligatoire (ex. label=boulanger)."], "missing_parameters")
    dataset = request.app.state.datasets.get()
    with dataset.connection() as conn:
        rows = conn.execute("SELECT a.label, a.rome, r.label FROM appellation a JOIN rome r ON r.code = a.rome "
                            "WHERE a.label LIKE ? ORDER BY a.principal DESC, length(a.label) LIMIT 20",
                            (f"%{label[:100]}%",)).fetchall()
    return json_response({"coupleAppellationRomeMetier": [{"appellation": a, "code_rome": c, "intitule": i}
                                                          for a, c, i in rows]}, max_age=lookups.LOOKUP_MAX_AGE)


ROUTES: list[tuple[str, Handler]] = [
    ("/jobsEtFormations", jobs_et_formations),
    ("/formations", formations),
    ("/formations/formation/{id}", formation_by_id),
    ("/formationsParRegion", formations_par_region),
    ("/jobs", jobs),
    ("/jobs/job/{id}", job_by_id),
    ("/jobs/matcha/{id}", matcha_by_id),
    ("/jobs/company/{siret}", company_by_siret),
    ("/metiers/all", metiers_all),
    ("/metiers/metiersParFormation/{cfd}", metiers_par_formation),
    ("/metiers/metiersParEtablissement/{siret}", metiers_par_etablissement),
    ("/metiers/intitule", metiers_intitule),
]


def lba_routes() -> list[Route]:
    """Both spellings: LBA's code mounted /api/v1, its public docs wrote /api/V1."""
    out = [Route(f"{prefix}{path}", handler, methods=["GET"]) for prefix in ("/api/v1", "/api/V1")
           for path, handler in ROUTES]
    out.append(Route("/api/V1/metiers", lba_metiers, methods=["GET"]))
    return out
