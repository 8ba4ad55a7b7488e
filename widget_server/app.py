"""create_app(settings) -> the Starlette application: routes, error handlers, dataset lifecycle."""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from widget_server.callers import CallerStats
from widget_server.errors import MethodNotAllowed, NotFound, ServiceError
from widget_server.partners import PartnerRegistry
from widget_server.query import TYPES
from widget_server.referentials.communes import CommuneIndex
from widget_server.referentials.metiers import MetierIndex
from widget_server.settings import Settings
from widget_server.sources.base import Source
from widget_server.sources.envelopes import EnvelopeBuilder
from widget_server.sources.france_travail import FranceTravailSettings, FranceTravailSource
from widget_server.sources.offers_live import OffersWithFranceTravail
from widget_server.sources.store import StoreSource
from widget_server.store.database import DatasetHolder
from widget_server.web import docs, health, lookups
from widget_server.web.access_log import AccessLog
from widget_server.web.metrics import Metrics, metrics_endpoint
from widget_server.web.observe import ObserveMiddleware
from widget_server.web.query_limits import QueryLimitsMiddleware
from widget_server.web.rate_limit import RateLimitMiddleware
from widget_server.web.rate_redis import RedisBuckets
from widget_server.web.responses import error_response, service_error_handler
from widget_server.web.search_api import SearchEndpoint
from widget_server.web.security_headers import PartnerAccessMiddleware, SecurityHeadersMiddleware


def _rome_parents(conn: Any) -> dict[str, str]:
    return dict(conn.execute("SELECT code, parent FROM rome"))


# What every loaded dataset gets derived from it, once, at load time.
DATASET_LOADERS: dict[str, Any] = {
    "metiers": MetierIndex,
    "communes": CommuneIndex,
    "envelopes": EnvelopeBuilder,
    "rome_parents": _rome_parents,
}


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(NotFound(request.url.path))
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "GET")
        return error_response(MethodNotAllowed(request.method, allowed))
    return error_response(ServiceError(exc.status_code, "http_error", str(exc.detail)))


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    # Logged by uvicorn with its traceback; the client gets the stable shape, no internals.
    return error_response(ServiceError())


def routes(search: Any = None) -> list[Route]:
    from widget_server.lba.routes import lba_routes, metiers_or_lba
    from widget_server.web import pages   # the widget, its loader, the configurator, the examples

    return [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/api/v1/search", search.handle if search else _unconfigured, methods=["GET"]),
        Route("/api/v1/metiers", metiers_or_lba(lookups.metiers), methods=["GET"]),
        Route("/api/v1/communes", lookups.communes, methods=["GET"]),
        Route("/api/v1/communes/reverse", lookups.communes_reverse, methods=["GET"]),
        Route("/api/openapi.json", docs.openapi_json, methods=["GET"]),
        Route("/api/docs", docs.api_docs, methods=["GET"]),
        *lba_routes(),   # La Bonne Alternance's v1 API, on our search
        *pages.widget_routes(),
    ]


async def _unconfigured(request: Request) -> Response:
    raise ServiceError(503, "not_configured", "La recherche n'est pas configurée.")


def default_sources() -> dict[str, Source]:
    return {bucket: StoreSource(bucket) for bucket in TYPES}


def create_app(settings: Settings | None = None, sources: dict[str, Source] | None = None,
               france_travail: FranceTravailSettings | None = None) -> Starlette:
    """The application. `sources` replaces the default embedded sources (tests use it);
    France Travail's live offers join the offers bucket when its credentials are set."""
    settings = settings or Settings.from_env()
    france_travail = france_travail or FranceTravailSettings.from_env()
    datasets = DatasetHolder(settings.dataset_path, DATASET_LOADERS, settings.reload_interval)
    active_sources = sources or default_sources()
    search = SearchEndpoint(active_sources, settings.source_timeout,
                            settings.search_cache_ttl, int(settings.search_cache_mb * 1024 * 1024))
    partners = PartnerRegistry.from_settings(settings)   # a bad partners file stops the start here
    metrics = Metrics(search=search, datasets=datasets, partners=partners, max_callers=settings.metrics_callers,
                      callers_per_client=settings.metrics_callers_per_client, trust_proxy=settings.trust_proxy,
                      proxy_hops=settings.proxy_hops)
    search.source_failure_listeners.append(metrics.source_failed)
    shared_buckets = RedisBuckets(settings.redis_url) if settings.redis_url else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        metrics.worker_started()
        dataset = datasets.load()
        live = None
        if france_travail.enabled:
            # Created here, on the loop that will use its connections.
            live = FranceTravailSource(france_travail, dataset.extensions["envelopes"].rome_labels)
            active_sources["offers"] = OffersWithFranceTravail(live, france_travail.mode, settings.source_timeout)
        try:
            yield
        finally:
            if live is not None:
                await live.aclose()
            if shared_buckets is not None:
                await shared_buckets.aclose()
            metrics.worker_stopped()

    app = Starlette(
        routes=routes(search),
        lifespan=lifespan,
        # Outermost first: every answer is logged and counted, 403s and 429s get the security
        # headers, and CORS wraps the limiter so a partner's page can read its 429.
        middleware=[
            Middleware(ObserveMiddleware, observers=[AccessLog(trust_proxy=settings.trust_proxy,
                                                                   proxy_hops=settings.proxy_hops), metrics.observe]),
            Middleware(SecurityHeadersMiddleware),
            Middleware(QueryLimitsMiddleware),   # before anything parses the query
            Middleware(PartnerAccessMiddleware, registry=partners),
            Middleware(RateLimitMiddleware, per_ip=(settings.rate_per_ip, settings.rate_burst_per_ip),
                       per_caller=(settings.rate_per_caller, settings.rate_burst_per_caller),
                       registry=partners, trust_proxy=settings.trust_proxy, proxy_hops=settings.proxy_hops,
                       shared=shared_buckets),
        ],
        exception_handlers={
            ServiceError: service_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
    )
    app.state.settings = settings
    app.state.datasets = datasets
    app.state.search = search
    app.state.caller_stats = CallerStats()
    app.state.partners = partners   # the widget page asks it: app.state.partners.widget_policy(...)
    app.state.metrics = metrics
    return app
