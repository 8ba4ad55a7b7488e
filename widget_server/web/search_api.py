"""GET /api/v1/search: parse, serve from cache or search, answer with ETag and Cache-Control."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cachetools import TTLCache
from starlette.requests import Request
from starlette.responses import Response

from widget_server.errors import InvalidParameters
from widget_server.query import CALLER_RE, parse_search_query
from widget_server.search import run_search
from widget_server.web.responses import CompactJSONResponse

SEARCH_MAX_AGE = 60


class SearchEndpoint:
    def __init__(self, sources: dict[str, Any], budget_s: float, cache_ttl: float, cache_size: int) -> None:
        self.sources = sources
        self.budget_s = budget_s
        self.cache: TTLCache[Any, tuple[dict[str, Any], str]] = TTLCache(cache_size, cache_ttl)
        self.hits = 0
        self.misses = 0

    async def handle(self, request: Request) -> Response:
        dataset = request.app.state.datasets.get()
        stats = request.app.state.caller_stats
        try:
            query = parse_search_query(request.query_params, dataset.extensions["envelopes"].rome_labels,
                                       dataset.extensions["communes"])
        except InvalidParameters:
            caller = request.query_params.get("caller", "")
            if CALLER_RE.match(caller):
                stats.record(caller, error=True)
            raise
        key = (dataset.version, query.cache_key())
        cached = self.cache.get(key)
        if cached is None:
            self.misses += 1
            body = await run_search(dataset, query, self.sources, self.budget_s)
            etag = _etag(body)
            if not any("error" in body[t] for t in query.types if t in body):
                self.cache[key] = (body, etag)   # a partial answer is not worth keeping
        else:
            self.hits += 1
            body, etag = cached
            body = {**body, "meta": {**body["meta"], "took_ms": 0.0, "cached": True}}
            body["query"] = {**body["query"], "caller": query.caller}
        failed = any("error" in body[t] for t in query.types if t in body)
        stats.record(query.caller, results=_count_results(body, query.types), error=failed)
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={SEARCH_MAX_AGE}" if not failed else "no-store",
                   "Vary": "Accept-Encoding"}
        if etag in _if_none_match(request):
            return Response(status_code=304, headers=headers)
        return CompactJSONResponse(body, headers=headers)


def _etag(body: dict[str, Any]) -> str:
    # The caller and the timing do not change the content: leave them out of the tag.
    stable = {k: v for k, v in body.items() if k not in ("meta", "query")}
    stable["meta"] = {k: v for k, v in body["meta"].items() if k not in ("took_ms", "cached")}
    stable["query"] = {k: v for k, v in body["query"].items() if k != "caller"}
    digest = hashlib.sha256(json.dumps(stable, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f'W/"{digest[:32]}"'


def _if_none_match(request: Request) -> set[str]:
    header = request.headers.get("if-none-match", "")
    return {tag.strip() for tag in header.split(",") if tag.strip()}


def _count_results(body: dict[str, Any], types: tuple[str, ...]) -> int:
    return sum(len(body[t].get("results", ())) for t in types if t in body)
