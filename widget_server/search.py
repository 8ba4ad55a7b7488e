"""The combined search: run the sources concurrently, each within its time budget, and assemble one answer."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Mapping

import anyio

from widget_server.combinations import best_pairs
from widget_server.market import local_market
from widget_server.query import SearchQuery
from widget_server.sources.base import Source, SourceResult
from widget_server.store.database import Dataset

log = logging.getLogger(__name__)

SUGGESTED_RADII = (60, 100, 150, 200)
_SOURCE_ERRORS = {
    "source_timeout": "Cette source n'a pas répondu à temps ; les autres résultats restent valables.",
    "source_error": "Cette source est momentanément indisponible ; les autres résultats restent valables.",
}


@dataclass(frozen=True)
class SourceFailure:
    """What a source that failed stands for in the answer (returned, never raised)."""

    code: str


async def _guarded(source: Source, dataset: Dataset, query: SearchQuery, budget_s: float) -> SourceResult | SourceFailure:
    try:
        async with asyncio.timeout(budget_s):
            return await source.search(dataset, query)
    except TimeoutError:
        log.warning("source %s timed out after %.2f s", source.bucket, budget_s)
        return SourceFailure("source_timeout")
    except Exception:  # one failing source must not take the others down
        log.exception("source %s failed", source.bucket)
        return SourceFailure("source_error")


def _is_local(source: Source) -> bool:
    """A source answering from the embedded dataset (it has a synchronous search)."""
    return callable(getattr(source, "search_sync", None))


def _local_work(dataset: Dataset, query: SearchQuery, local: Mapping[str, Any]) -> tuple[
        dict[str, SourceResult | SourceFailure], dict[str, Any] | None, dict[str, int | None]]:
    """Everything the embedded dataset answers, in one worker thread: the local sources, the
    market block and each empty section's suggested radius.  One thread hop per search instead
    of one per source and extra (each hop costs about 0.3 ms; bench/RESULTS-search.md)."""
    results: dict[str, SourceResult | SourceFailure] = {}
    for bucket, source in local.items():
        try:
            results[bucket] = source.search_sync(dataset, query)
        except Exception:  # one failing source must not take the others down
            log.exception("source %s failed", bucket)
            results[bucket] = SourceFailure("source_error")
    market = None if query.centre is None else _market(dataset, query)
    suggested: dict[str, int | None] = {}
    if query.centre is not None:
        for bucket, outcome in results.items():
            if isinstance(outcome, SourceResult):
                suggest = getattr(local[bucket], "suggest_radius", None)
                empty = outcome.count == 0 and suggest is not None
                suggested[bucket] = suggest(dataset, query, SUGGESTED_RADII) if empty else None
    return results, market, suggested


async def _local_guarded(dataset: Dataset, query: SearchQuery, local: Mapping[str, Any], budget_s: float) -> tuple[
        dict[str, SourceResult | SourceFailure], dict[str, Any] | None, dict[str, int | None]]:
    try:
        async with asyncio.timeout(budget_s):
            return await anyio.to_thread.run_sync(_local_work, dataset, query, local, abandon_on_cancel=True)
    except TimeoutError:
        log.warning("local sources %s timed out after %.2f s", ",".join(local), budget_s)
        return {b: SourceFailure("source_timeout") for b in local}, None, {}


async def run_search(dataset: Dataset, query: SearchQuery, sources: Mapping[str, Source],
                     budget_s: float) -> dict[str, Any]:
    started = time.perf_counter()
    buckets = [t for t in query.types if t in sources]
    local = {b: sources[b] for b in buckets if _is_local(sources[b])}
    remote = [b for b in buckets if b not in local]
    # Remote sources (France Travail) each keep their own time budget, concurrently with the local batch.
    (local_results, market, suggested), *remote_outcomes = await asyncio.gather(
        _local_guarded(dataset, query, local, budget_s) if local else _nothing(),
        *(_guarded(sources[b], dataset, query, budget_s) for b in remote))
    results = {**local_results, **dict(zip(remote, remote_outcomes))}
    if not local and query.centre is not None:
        market = await anyio.to_thread.run_sync(_market, dataset, query)

    body: dict[str, Any] = {"query": describe_query(dataset, query)}
    fallbacks = []
    for bucket in buckets:
        outcome = results[bucket]
        if isinstance(outcome, SourceFailure):
            body[bucket] = {"error": {"code": outcome.code, "message": _SOURCE_ERRORS[outcome.code]}}
            continue
        end = query.page * query.limit
        body[bucket] = {"count": outcome.count, "results": outcome.items,
                        "next_page": query.page + 1 if end < outcome.count else None}
        if bucket == "formations":
            body[bucket]["nearest"] = outcome.nearest
            body[bucket]["contacts"] = outcome.contacts
        if outcome.warning:
            body[bucket]["warning"] = outcome.warning
        if outcome.fallback:
            fallbacks.append(outcome.fallback)

    body["combinations"] = _combinations(dataset, query, results)
    body["market"] = market
    overall = None
    if query.centre is not None:
        # Each empty section says the nearest radius that finds something of its own kind (the
        # embedded dataset's kinds: a remote source's wider answer is not known here).
        for bucket in buckets:
            if isinstance(results[bucket], SourceResult):
                body[bucket]["suggested_radius_km"] = suggested.get(bucket)
        if _all_empty(results):
            overall = min((r for r in suggested.values() if r is not None), default=None)
    body["meta"] = {
        "took_ms": round((time.perf_counter() - started) * 1000, 1),
        "dataset_version": dataset.version,
        "demo": _has_demo(body, buckets),
        "radius_km": query.radius_km if query.centre is not None else None,
        "fallbacks": fallbacks,
        "suggested_radius_km": overall,
    }
    return body


async def _nothing() -> tuple[dict[str, Any], None, dict[str, int | None]]:
    return {}, None, {}


def describe_query(dataset: Dataset, query: SearchQuery) -> dict[str, Any]:
    labels = dataset.extensions["envelopes"].rome_labels
    place = None
    if query.centre is not None:
        c = query.centre.commune
        place = {
            "given_by": query.centre.given_by,
            "latitude": query.centre.latitude, "longitude": query.centre.longitude,
            "commune": None if c is None else {"name": c.name, "insee": c.insee,
                                               "postal_codes": list(c.postal_codes),
                                               "department": {"code": c.dept_code, "name": c.dept_name}},
        }
    return {
        "caller": query.caller,
        "romes": [{"code": r, "label": labels.get(r, r)} for r in query.romes],
        "place": place, "radius_km": query.radius_km, "types": list(query.types),
        "diploma": query.diploma, "sort": query.sort, "limit": query.limit, "page": query.page,
    }


def _combinations(dataset: Dataset, query: SearchQuery, results: Mapping[str, Any]) -> list[dict[str, Any]]:
    formations = results.get("formations")
    if not isinstance(formations, SourceResult) or not formations.candidates:
        return []
    employers = []
    for bucket in ("offers", "recruiters"):
        outcome = results.get(bucket)
        if isinstance(outcome, SourceResult):
            employers.extend(outcome.candidates)
    learner = None if query.centre is None else (query.centre.latitude, query.centre.longitude)
    parents = dataset.extensions["rome_parents"]
    return best_pairs(formations.candidates, employers, learner, parents,
                      query.radius_km if query.centre is not None else None)


def _market(dataset: Dataset, query: SearchQuery) -> dict[str, Any]:
    assert query.centre is not None
    commune = query.centre.commune
    with dataset.connection() as conn:
        return local_market(conn, query.romes, query.centre.latitude, query.centre.longitude, query.radius_km,
                            commune.insee if commune else None, dataset.extensions["rome_parents"],
                            dataset.extensions["envelopes"].rome_labels)


def _all_empty(results: Mapping[str, Any]) -> bool:
    return all(isinstance(r, SourceResult) and r.count == 0 for r in results.values())


def _has_demo(body: Mapping[str, Any], buckets: list[str]) -> bool:
    for bucket in buckets:
        for item in (*body[bucket].get("results", ()), *body[bucket].get("nearest", ())):
            if item["demo"]:
                return True
    return any(p["formation"]["demo"] or p["employer"]["demo"] for p in body["combinations"])
