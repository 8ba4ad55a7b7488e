"""GET /api/openapi.json and /api/docs: the contract and a readable page made from it."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from widget_server.openapi import openapi_spec
from widget_server.web.responses import json_response
from widget_server.web.templating import templates

_SPEC = openapi_spec()


async def openapi_json(request: Request) -> Response:
    return json_response(_SPEC, max_age=300)


def _schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2)


async def api_docs(request: Request) -> Response:
    operations = []
    for path, methods in _SPEC["paths"].items():
        for method, op in methods.items():
            operations.append({"path": path, "method": method.upper(), "op": op})
    schemas = [(name, _schema_text(s)) for name, s in _SPEC["components"]["schemas"].items()]
    response = templates.TemplateResponse(request, "api_docs.html", {
        "info": _SPEC["info"], "operations": operations, "schemas": schemas,
    })
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
