"""GET /api/v1/search: parse, serve from cache or search, answer with ETag and Cache-Control."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable

import orjson
from cachetools import TTLCache
from starlette.requests import Request
from starlette.responses import Response

from widget_server.errors import InvalidParameters
from widget_server.caller import is_valid_caller, request_caller
from widget_server.links import clean_item_urls
from widget_server.query import SearchQuery, parse_search_query
from widget_server.search import run_search
from widget_server.store.database import Dataset

SEARCH_MAX_AGE = 60


class SearchEndpoint:
    def __init__(self, sources: dict[str, Any], budget_s: float, cache_ttl: float, cache_bytes: int) -> None:
        self.sources = sources
        self.budget_s = budget_s
        # Bounded in bytes, not entries: one national search weighs 100 times a local one, and a
        # count bound let heavy valid searches grow a worker from 232 to 880 MB.
        self.cache: TTLCache[Any, CachedAnswer] = TTLCache(cache_bytes, cache_ttl, getsizeof=_answer_size)
        self.hits = 0
        self.misses = 0
        # Told (bucket, code) for each source that failed or answered degraded: the metrics listen.
        self.source_failure_listeners: list[Callable[[str, str], None]] = []

    async def handle(self, request: Request) -> Response:
        dataset = request.app.state.datasets.get()
        stats = request.app.state.caller_stats
        try:
            query = parse_search_query(request.query_params, dataset.extensions["envelopes"].rome_labels,
                                       dataset.extensions["communes"])
        except InvalidParameters:
            caller = request_caller(request.scope)
            if caller is not None and is_valid_caller(caller):
                stats.record(caller, error=True)
            raise
        cached, meta, _ = await self.answer(dataset, query)
        stats.record(query.caller, results=cached.results, error=cached.failed)
        headers = {"ETag": cached.etag, "Vary": "Accept-Encoding",
                   "Cache-Control": "no-store" if cached.failed else f"public, max-age={SEARCH_MAX_AGE}"}
        if cached.etag in _if_none_match(request):
            return Response(status_code=304, headers=headers)
        return Response(cached.render(query.caller, meta), headers=headers, media_type="application/json")

    async def answer(self, dataset: Dataset, query: SearchQuery) -> tuple["CachedAnswer", dict[str, Any], dict[str, Any] | None]:
        """(the answer, its meta for this request, the body when it was just computed).

        Shared by the API and the widget page, so both hit the same cache and
        report source failures to the same listeners (metrics).
        """
        key = (dataset.version, query.cache_key())
        cached = self.cache.get(key)
        if cached is not None:
            self.hits += 1
            return cached, {**cached.meta, "took_ms": 0.0, "cached": True}, None
        self.misses += 1
        body = await run_search(dataset, query, self.sources, self.budget_s)
        clean_item_urls(body, query.types)   # datasets imported before links were checked, live offers
        self._report_failures(body, query.types)
        cached = CachedAnswer.of(body, query.types)
        if not cached.failed and _answer_size(cached) <= self.cache.maxsize:
            self.cache[key] = cached   # a partial answer is not worth keeping
        return cached, body["meta"], body

    async def body(self, dataset: Dataset, query: SearchQuery) -> dict[str, Any]:
        """The answer as a dict (the widget page renders it)."""
        cached, meta, body = await self.answer(dataset, query)
        return body if body is not None else json.loads(cached.render(query.caller, meta))

    def _report_failures(self, body: dict[str, Any], types: tuple[str, ...]) -> None:
        for bucket in types:
            problem = body.get(bucket, {}).get("error") or body.get(bucket, {}).get("warning")
            if problem:
                for listener in self.source_failure_listeners:
                    listener(bucket, problem["code"])


def _answer_size(answer: "CachedAnswer") -> int:
    """What an answer costs the cache: its serialised body, plus the parsed copies of its small parts."""
    return len(answer.core) + 1024


def _dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON.  orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":"))
    writes for our answers (insertion order kept), in an eighth of the time; a NaN would be null."""
    return orjson.dumps(value)


@dataclass(frozen=True)
class CachedAnswer:
    """A search answer kept serialised: a cache hit only splices in the caller and the timing."""

    query: dict[str, Any]        # the normalised query, caller left out
    core: bytes                  # '{"formations":...,"combinations":[...]}'
    meta: dict[str, Any]
    etag: str
    failed: bool
    results: int

    @classmethod
    def of(cls, body: dict[str, Any], types: tuple[str, ...]) -> "CachedAnswer":
        query = {k: v for k, v in body["query"].items() if k != "caller"}
        core = _dumps({k: v for k, v in body.items() if k not in ("query", "meta")})
        meta = {k: v for k, v in body["meta"].items() if k != "took_ms"}
        # The caller and the timing do not change the content: they stay out of the tag.
        digest = hashlib.sha256(core + _dumps(query) + _dumps(meta)).hexdigest()
        failed = any("error" in body[t] for t in types if t in body)
        results = sum(len(body[t].get("results", ())) for t in types if t in body)
        return cls(query, core, meta, f'W/"{digest[:32]}"', failed, results)

    def render(self, caller: str, meta: dict[str, Any]) -> bytes:
        query = _dumps({"caller": caller, **self.query})
        return b'{"query":' + query + b"," + self.core[1:-1] + b',"meta":' + _dumps(meta) + b"}"


def _if_none_match(request: Request) -> set[str]:
    header = request.headers.get("if-none-match", "")
    return {tag.strip() for tag in header.split(",") if tag.strip()}
