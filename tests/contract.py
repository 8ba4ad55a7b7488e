"""Check every JSON response against the OpenAPI contract (used by the test clients)."""

from __future__ import annotations

from typing import Any

import jsonschema

from widget_server.openapi import openapi_spec

SPEC = openapi_spec()
CHECKED: list[tuple[str, str, int]] = []   # (method, path, status) of each checked response


def _template(path: str) -> str:
    """The contract's path for a concrete one: /api/V1/... is /api/v1/..., {id} segments match anything."""
    if path.startswith("/api/V1/"):
        path = "/api/v1/" + path[len("/api/V1/"):]
    if path in SPEC["paths"]:
        return path
    parts = path.split("/")
    for candidate in SPEC["paths"]:
        pattern = candidate.split("/")
        if len(pattern) == len(parts) and all(a == b or (a.startswith("{") and a.endswith("}") and b)
                                              for a, b in zip(pattern, parts)):
            return candidate
    return path


def _schema_ref(path: str, method: str, status: int) -> dict[str, Any] | None:
    operation = SPEC["paths"].get(_template(path), {}).get(method.lower())
    if operation is None:
        return {"$ref": "#/components/schemas/Error"} if status >= 400 else None
    response = operation["responses"].get(str(status)) or operation["responses"]["default"]
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].split("/")[-1]]
    content = response.get("content")
    return content["application/json"]["schema"] if content else None


def check_response(method: str, path: str, response: Any) -> None:
    if response.status_code == 304 or method.upper() == "HEAD":
        return
    if not response.headers.get("content-type", "").startswith("application/json"):
        return
    ref = _schema_ref(path, method, response.status_code)
    assert ref is not None, f"{method} {path} answered JSON {response.status_code} but the contract has no schema"
    schema = {**ref, "components": SPEC["components"]}
    jsonschema.Draft202012Validator(schema).validate(response.json())
    CHECKED.append((method.upper(), path, response.status_code))
