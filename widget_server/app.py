"""create_app(settings) -> the Starlette application: routes, error handlers, dataset lifecycle."""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from widget_server.errors import MethodNotAllowed, NotFound, ServiceError
from widget_server.referentials.communes import CommuneIndex
from widget_server.referentials.metiers import MetierIndex
from widget_server.settings import Settings
from widget_server.store.database import DatasetHolder
from widget_server.web import health, lookups
from widget_server.web.responses import error_response, service_error_handler

# What every loaded dataset gets derived from it, once, at load time.
DATASET_LOADERS: dict[str, Any] = {"metiers": MetierIndex, "communes": CommuneIndex}


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


def routes() -> list[Route]:
    return [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/api/v1/metiers", lookups.metiers, methods=["GET"]),
        Route("/api/v1/communes", lookups.communes, methods=["GET"]),
        Route("/api/v1/communes/reverse", lookups.communes_reverse, methods=["GET"]),
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    datasets = DatasetHolder(settings.dataset_path, DATASET_LOADERS, settings.reload_interval)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        datasets.load()
        yield

    app = Starlette(
        routes=routes(),
        lifespan=lifespan,
        exception_handlers={
            ServiceError: service_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
    )
    app.state.settings = settings
    app.state.datasets = datasets
    return app
