"""GET /metrics in Prometheus text format, and the middleware that counts every request.

Each app has its own registry (not prometheus_client's global one, so tests can build many
apps). With `--workers N` the workers write their values to shared files and any scrape sums
them (metrics_workers.py); each host is scraped on its own (docs/deploy.md).

Label values are bounded: routes are templates (never raw paths), methods a fixed set, callers
the registered partners (always their own label), plus in open mode up to N unregistered callers,
then "other". One client address may create only a few of those N labels
(WIDGET_METRICS_CALLERS_PER_CLIENT): a script inventing callers cannot take them all.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import mark_process_dead
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from widget_server import __version__
from widget_server.caller import request_caller
from widget_server.partners import PartnerRegistry
from widget_server.web.access_log import method_label, public_caller, route_template
from widget_server.web.metrics_workers import HostCollector, WorkerCache, forget_dead_workers, multiprocess_dir
from widget_server.web.rate_limit import client_key

# `*_created` series double the output for no use here (process start is enough).
disable_created_metrics()
# Searches take milliseconds from cache and up to the source budget (1.5 s) when a source hangs.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0)
OTHER = "other"


class Metrics:
    """The process's metrics: request counters and histograms, plus live views of the app's state."""

    def __init__(self, *, search: Any = None, datasets: Any = None, partners: PartnerRegistry | None = None,
                 max_callers: int = 100, callers_per_client: int = 3, trust_proxy: bool = False,
                 proxy_hops: int = 1) -> None:
        self.registry = CollectorRegistry()
        self.partners = partners or PartnerRegistry()
        self.max_callers = max_callers
        self.callers_per_client = callers_per_client
        self.trust_proxy = trust_proxy
        self.proxy_hops = proxy_hops
        self._callers: set[str] = set()
        self._labels_by_client: dict[str, int] = {}   # at most max_callers keys: each created a label
        self.multiprocess_dir = multiprocess_dir()
        # Several workers: values go to the shared files (whatever the registry), read back by the scrape.
        own = None if self.multiprocess_dir else self.registry
        self.requests = Counter("widget_http_requests", "HTTP requests by route template, method and status.",
                                ["route", "method", "status"], registry=own)
        self.latency = Histogram("widget_http_request_duration_seconds", "Time to answer, by route template.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=own)
        self.caller_requests = Counter("widget_caller_requests",
                                       "Requests naming a caller, by caller (bounded; the rest is 'other').",
                                       ["caller"], registry=own)
        self.source_failures = Counter("widget_source_failures",
                                       "Search sources that failed (source_error), ran out of time "
                                       "(source_timeout) or answered degraded (a warning code), by source.",
                                       ["source", "code"], registry=own)
        self.worker_cache: WorkerCache | None = None
        if self.multiprocess_dir:
            self.worker_cache = WorkerCache(search)
            self.registry.register(HostCollector(self.multiprocess_dir, self.worker_cache,
                                                 _StateCollector(None, datasets)))
        else:
            self.registry.register(_StateCollector(search, datasets))

    def caller_label(self, caller: str, client: str = "-") -> str:
        """The caller's label; `client` (the client's bucket key) is charged for each new one."""
        if caller in self.partners.partners:
            return caller
        if self.partners.strict:
            return OTHER
        label = public_caller(caller) or OTHER
        if label in self._callers or label == OTHER:
            return label
        created = self._labels_by_client.get(client, 0)
        if len(self._callers) < self.max_callers and created < self.callers_per_client:
            self._callers.add(label)
            self._labels_by_client[client] = created + 1
            return label
        return OTHER

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        self.requests.labels(route, method_label(scope), str(status)).inc()
        self.latency.labels(route).observe(seconds)
        caller = request_caller(scope)
        if caller is not None:
            client = client_key(scope, self.trust_proxy, self.proxy_hops)
            self.caller_requests.labels(self.caller_label(caller, client)).inc()
        if self.worker_cache is not None:
            self.worker_cache.sync()

    def worker_started(self) -> None:
        if self.multiprocess_dir:
            forget_dead_workers(self.multiprocess_dir)

    def worker_stopped(self) -> None:
        if self.multiprocess_dir:   # its counters stay in the sums, its cache sizes go
            mark_process_dead(os.getpid(), self.multiprocess_dir)

    def source_failed(self, source: str, code: str) -> None:
        """Called by the search endpoint for each bucket that came back with an error or a warning."""
        self.source_failures.labels(source, code).inc()


class _StateCollector(Collector):
    """Read at scrape time from the objects that already count: nothing to keep in sync."""

    def __init__(self, search: Any, datasets: Any) -> None:
        self.search = search
        self.datasets = datasets

    def collect(self) -> Any:
        yield InfoMetricFamily("widget_build", "Version of the widget server.", value={"version": __version__})
        if self.search is not None:
            hits, misses = self.search.hits, self.search.misses
            yield CounterMetricFamily("widget_search_cache_hits", "Searches answered from the cache.", value=hits)
            yield CounterMetricFamily("widget_search_cache_misses", "Searches computed.", value=misses)
            yield GaugeMetricFamily("widget_search_cache_hit_ratio", "Hits over all searches since start.",
                                    value=hits / (hits + misses) if hits + misses else 0.0)
            yield GaugeMetricFamily("widget_search_cache_entries", "Answers in the search cache.",
                                    value=len(self.search.cache))
            yield GaugeMetricFamily("widget_search_cache_bytes", "Bytes the search cache holds "
                                    "(bounded by WIDGET_SEARCH_CACHE_MB).", value=self.search.cache.currsize)
            yield GaugeMetricFamily("widget_search_cache_max_bytes", "The search cache's bound, in bytes.",
                                    value=self.search.cache.maxsize)
        dataset = self._dataset()
        if dataset is not None:
            yield InfoMetricFamily("widget_dataset", "The dataset being served.", value={
                "version": dataset.version, "scale": str(dataset.meta.get("scale") or ""),
                "built_at": str(dataset.meta.get("built_at") or "")})
            items = GaugeMetricFamily("widget_dataset_records", "Records in the dataset, by kind.", labels=["kind"])
            for kind, count in sorted(dataset.counts().items()):
                if "." not in kind:
                    items.add_metric([kind], count)
            yield items

    def _dataset(self) -> Any:
        if self.datasets is None:
            return None
        try:
            return self.datasets.get()
        except Exception:   # not loaded yet or unavailable: the other metrics still matter
            return None


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics: Prometheus text format (OpenMetrics when the scraper asks for it)."""
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    body = encoder(request.app.state.metrics.registry)
    return Response(body, headers={"Content-Type": content_type, "Cache-Control": "no-store"})
