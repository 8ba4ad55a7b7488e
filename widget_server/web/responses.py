"""JSON responses: compact, UTF-8, with the project's error shape for every failure."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from widget_server.errors import ServiceError


class CompactJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def json_response(content: Any, *, status_code: int = 200, max_age: int | None = None,
                  headers: dict[str, str] | None = None) -> Response:
    all_headers = dict(headers or {})
    if max_age is not None:
        all_headers["Cache-Control"] = f"public, max-age={max_age}"
    return CompactJSONResponse(content, status_code=status_code, headers=all_headers)


def error_response(error: ServiceError) -> Response:
    headers = {"Cache-Control": "no-store", **error.headers}
    return CompactJSONResponse(error.body(), status_code=error.status_code, headers=headers)


async def service_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return error_response(exc)
