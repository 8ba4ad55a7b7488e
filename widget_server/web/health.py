"""GET /healthz: is a dataset loaded, which one, how big."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from widget_server import __version__
from widget_server.web.responses import json_response


async def healthz(request: Request) -> Response:
    dataset = request.app.state.datasets.get()
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "dataset": {
                "version": dataset.version,
                "built_at": dataset.meta.get("built_at"),
                "scale": dataset.meta.get("scale"),
                "schema_version": dataset.meta.get("schema_version"),
            },
            "counts": dataset.counts(),
        },
        headers={"Cache-Control": "no-store"},
    )
