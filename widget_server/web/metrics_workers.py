"""/metrics summed over the workers of a host: prometheus_client's multiprocess mode.

`widget-server serve --workers N` (N > 1) gives its workers a fresh PROMETHEUS_MULTIPROC_DIR
(serving.py). There every counter and histogram is kept in a memory-mapped file per worker, and
a scrape, whichever worker answers it, reads all the files: the sums of the whole host.

The search cache figures live in each worker's objects (search.py counts them), so each worker
copies its own into such files as it answers requests (WorkerCache.sync): counters by their
increase, sizes as gauges summed over the live workers. The hit ratio is then computed from the
summed counters. Build and dataset info come from the worker that answers: every worker serves
the same dataset file (within WIDGET_RELOAD_INTERVAL of a replacement).
"""

from __future__ import annotations

import glob
import os
from typing import Any, Iterator

from prometheus_client import Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The multiprocess folder when this process is one of several workers, else None."""
    return os.environ.get(ENV) or None


class WorkerCache:
    """This worker's search cache figures, copied into the multiprocess files."""

    def __init__(self, search: Any) -> None:
        self.search = search
        # registry=None: the values live in the files, the scrape reads them from there.
        self.hits = Counter("widget_search_cache_hits", "Searches answered from the cache.", registry=None)
        self.misses = Counter("widget_search_cache_misses", "Searches computed.", registry=None)
        self.entries = Gauge("widget_search_cache_entries", "Answers in the search caches of the live workers.",
                             registry=None, multiprocess_mode="livesum")
        self.bytes = Gauge("widget_search_cache_bytes", "Bytes the search caches of the live workers hold "
                           "(each bounded by WIDGET_SEARCH_CACHE_MB).", registry=None, multiprocess_mode="livesum")
        self.max_bytes = Gauge("widget_search_cache_max_bytes", "The bounds of the live workers' search caches, "
                               "in bytes.", registry=None, multiprocess_mode="livesum")
        self._hits = self._misses = 0
        if search is not None:
            self.max_bytes.set(search.cache.maxsize)

    def sync(self) -> None:
        search = self.search
        if search is None:
            return
        hits, misses = search.hits, search.misses
        if hits > self._hits:
            self.hits.inc(hits - self._hits)
            self._hits = hits
        if misses > self._misses:
            self.misses.inc(misses - self._misses)
            self._misses = misses
        self.entries.set(len(search.cache))
        self.bytes.set(search.cache.currsize)


class HostCollector(Collector):
    """What a scrape answers: every worker's files, the host's hit ratio, this worker's info."""

    def __init__(self, path: str, worker: WorkerCache, info: Collector) -> None:
        self.files = MultiProcessCollector(None, path)
        self.worker = worker
        self.info = info

    def collect(self) -> Iterator[Metric]:
        self.worker.sync()   # this worker's latest figures, not those of its last request
        totals = {"widget_search_cache_hits": 0.0, "widget_search_cache_misses": 0.0}
        for family in self.files.collect():
            if family.name in totals:
                totals[family.name] = sum(s.value for s in family.samples if s.name.endswith("_total"))
            yield family
        hits, misses = totals.values()
        yield GaugeMetricFamily("widget_search_cache_hit_ratio", "Hits over all searches since start, all workers.",
                                value=hits / (hits + misses) if hits + misses else 0.0)
        yield from self.info.collect()


def forget_dead_workers(path: str) -> None:
    """Drop the live gauges of workers that are gone (a crashed worker never said so itself)."""
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        pid = int(name.rsplit("_", 1)[1][:-3])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, path)
        except PermissionError:   # alive, someone else's
            pass
