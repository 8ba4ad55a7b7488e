"""The search endpoint's own work, called directly: one cache for the API and the widget page, bounded
in bytes; ETags that name the content; failures told to the metrics; per-caller result counts."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from starlette.datastructures import QueryParams

from datasets import LYON, PARIS, build, formation, offer, recruiter
from widget_server.app import default_sources
from widget_server.query import parse_search_query
from widget_server.sources.base import SourceResult
from widget_server.store.database import DatasetHolder
from widget_server.web.search_api import CachedAnswer, SearchEndpoint, _answer_size


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, data_dir):
    from widget_server.app import DATASET_LOADERS

    path = build(tmp_path_factory.mktemp("endpoint") / "small.sqlite", data_dir,
                 formations=[formation("lyon-cap", LYON, ["D1102"], level=3),
                             formation("paris-patisserie", PARIS, ["D1104"], level=3)],
                 offers=[offer("lyon-offer", LYON, ["D1102"], created_at="2026-11-20")],
                 recruiters=[recruiter("lyon-recruiter", LYON, ["D1102"], score=40)])
    return DatasetHolder(path, DATASET_LOADERS, 0.0).load()


def query(dataset, **params):
    params = {"caller": "endpoint-test", "romes": "D1102", "insee": "69123", **params}
    return parse_search_query(QueryParams(params), dataset.extensions["envelopes"].rome_labels,
                              dataset.extensions["communes"])


def endpoint(sources=None, cache_bytes=10_000_000):
    return SearchEndpoint(sources or default_sources(), 2.0, 60.0, cache_bytes)


def test_the_widget_page_and_the_api_share_one_cache(dataset):
    search = endpoint()
    first = asyncio.run(search.body(dataset, query(dataset)))
    assert (search.hits, search.misses) == (0, 1) and first["meta"].get("cached") is None
    again = asyncio.run(search.body(dataset, query(dataset, caller="another-site")))
    assert (search.hits, search.misses) == (1, 1)
    # From the cache: the same content, this caller's name, and the timing of a hit.
    assert again["query"] == {**first["query"], "caller": "another-site"}
    assert {k: v for k, v in again.items() if k not in ("query", "meta")} == \
        {k: v for k, v in first.items() if k not in ("query", "meta")}
    assert again["meta"] == {**first["meta"], "took_ms": 0.0, "cached": True}
    asyncio.run(search.body(dataset, query(dataset)))
    assert (search.hits, search.misses) == (2, 1)


def test_the_cache_is_bounded_in_bytes(dataset):
    search = endpoint()
    cached, _, _ = asyncio.run(search.answer(dataset, query(dataset)))
    assert search.cache.currsize == len(cached.core) + 1024 == _answer_size(cached)
    # An answer bigger than the whole cache is not kept (it would evict everything).
    small = endpoint(cache_bytes=_answer_size(cached) - 1)
    asyncio.run(small.answer(dataset, query(dataset)))
    asyncio.run(small.answer(dataset, query(dataset)))
    assert (small.hits, small.misses, small.cache.currsize) == (0, 2, 0)
    exact = endpoint(cache_bytes=_answer_size(cached))        # one that fits exactly is kept
    asyncio.run(exact.answer(dataset, query(dataset)))
    asyncio.run(exact.answer(dataset, query(dataset)))
    assert (exact.hits, exact.misses) == (1, 1)


def test_the_tag_names_the_content_not_the_moment(dataset):
    tags = []
    for _ in range(2):      # two fresh computations: their timings differ, their tags do not
        cached, meta, _ = asyncio.run(endpoint().answer(dataset, query(dataset)))
        tags.append(cached.etag)
    assert tags[0] == tags[1] and meta["took_ms"] > 0
    # The same results asked another way: the echoed query differs, so does the tag.
    by_distance, _, _ = asyncio.run(endpoint().answer(dataset, query(dataset, sort="distance")))
    by_date, _, _ = asyncio.run(endpoint().answer(dataset, query(dataset, sort="date")))
    assert by_distance.core == by_date.core and by_distance.etag != by_date.etag
    # A new dataset version with the same results: a new tag (meta names the version).
    newer = dataclasses.replace(dataset, meta={**dataset.meta, "version": "newer"})
    same_elsewhere, _, _ = asyncio.run(endpoint().answer(newer, query(newer)))
    first, _, _ = asyncio.run(endpoint().answer(dataset, query(dataset)))
    assert same_elsewhere.core == first.core and same_elsewhere.etag != first.etag


def test_the_rendered_answer_has_each_part_once(dataset):
    cached, meta, _ = asyncio.run(endpoint().answer(dataset, query(dataset)))
    pairs = json.loads(cached.render("x", meta), object_pairs_hook=lambda kv: [k for k, _ in kv])
    assert pairs == ["query", "formations", "offers", "recruiters", "combinations", "market", "meta"]


class Degraded:
    bucket = "offers"

    async def search(self, dataset, query):
        return SourceResult(items=[], count=0, warning={"code": "live_offers_unavailable", "message": "…"})


class Broken:
    bucket = "recruiters"

    async def search(self, dataset, query):
        raise RuntimeError("down")


def test_failures_and_degraded_answers_are_told_to_the_listeners(dataset):
    told = []
    sources = {"formations": default_sources()["formations"], "offers": Degraded(), "recruiters": Broken()}
    search = endpoint(sources)
    search.source_failure_listeners.append(lambda bucket, code: told.append((bucket, code)))
    cached, _, _ = asyncio.run(search.answer(dataset, query(dataset)))
    assert sorted(told) == [("offers", "live_offers_unavailable"), ("recruiters", "source_error")]
    assert cached.failed and search.cache.currsize == 0       # a partial answer is not kept
    # A bucket no source serves is left out of the answer, and out of the report.
    told.clear()
    search = endpoint({"formations": default_sources()["formations"]})
    search.source_failure_listeners.append(lambda bucket, code: told.append((bucket, code)))
    body = asyncio.run(search.body(dataset, query(dataset)))
    assert "offers" not in body and told == []


def test_the_result_count_is_what_the_answer_shows(dataset):
    cached, _, body = asyncio.run(endpoint().answer(dataset, query(dataset)))
    shown = sum(len(body[t]["results"]) for t in ("formations", "offers", "recruiters"))
    assert cached.results == shown == 3
    only_some, _, _ = asyncio.run(endpoint().answer(dataset, query(dataset, types="offers")))
    assert only_some.results == 1 and isinstance(only_some, CachedAnswer)
