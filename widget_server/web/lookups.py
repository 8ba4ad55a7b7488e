"""GET /api/v1/metiers, /api/v1/communes and /api/v1/communes/reverse."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from widget_server.errors import ServiceError
from widget_server.referentials.communes import MAX_RESULTS as COMMUNE_MAX, CommuneIndex
from widget_server.referentials.metiers import MAX_RESULTS as METIER_MAX, MetierIndex
from widget_server.text import fold
from widget_server.web.params import ParamReader
from widget_server.web.responses import json_response

LOOKUP_MAX_AGE = 3600   # referentials only change with the dataset


def _query_text(reader: ParamReader) -> str | None:
    q = reader.text("q", required=True, max_len=100)
    if q is not None and len(fold(q).replace(" ", "")) < 2:
        reader.error("q", "too_short", "« q » doit contenir au moins 2 lettres ou chiffres.")
        return None
    return q


async def metiers(request: Request) -> Response:
    reader = ParamReader(request.query_params)
    q = _query_text(reader)
    limit = reader.integer("limit", lo=1, hi=METIER_MAX, default=METIER_MAX)
    reader.reject_unknown()
    reader.raise_if_errors()
    assert q is not None and limit is not None
    index: MetierIndex = request.app.state.datasets.get().extensions["metiers"]
    results, corrected = index.suggest(q, limit)
    return json_response(_answer(q, results, corrected), max_age=LOOKUP_MAX_AGE)


def _answer(q: str, results: list[Any], corrected: str | None) -> dict[str, Any]:
    return {"query": q, "count": len(results), "match": "typo" if corrected else "prefix",
            "did_you_mean": corrected, "results": results}


async def communes(request: Request) -> Response:
    reader = ParamReader(request.query_params)
    q = _query_text(reader)
    limit = reader.integer("limit", lo=1, hi=COMMUNE_MAX, default=10)
    reader.reject_unknown()
    if q is not None and q.isdigit() and len(q) > 5:
        reader.error("q", "bad_postal_code", "« q » : un code postal a 5 chiffres (ex. 69003).")
    reader.raise_if_errors()
    assert q is not None and limit is not None
    index: CommuneIndex = request.app.state.datasets.get().extensions["communes"]
    results, corrected = index.suggest(q, limit)
    return json_response(_answer(q, results, corrected), max_age=LOOKUP_MAX_AGE)


async def communes_reverse(request: Request) -> Response:
    reader = ParamReader(request.query_params, aliases={"lat": "latitude", "lon": "longitude"})
    lat = reader.number("latitude", lo=-90, hi=90, required=True)
    lon = reader.number("longitude", lo=-180, hi=180, required=True)
    reader.reject_unknown()
    reader.raise_if_errors()
    assert lat is not None and lon is not None
    index: CommuneIndex = request.app.state.datasets.get().extensions["communes"]
    found = index.nearest(lat, lon)
    if found is None:
        raise ServiceError(404, "no_commune_nearby",
                           "Aucune commune française à moins de 50 km de ce point.")
    commune, distance = found
    result = commune.as_dict() | {"distance_km": round(distance, 2)}
    return json_response({"query": {"latitude": lat, "longitude": lon}, "result": result},
                         max_age=LOOKUP_MAX_AGE)
