"""The `caller` a request names: read in this one place, from the decoded query, for every gate.

Strict mode, the per-caller rate limit, the metrics, the access log, the partner origin check and
the widget page all ask `request_caller(scope)`. Reading the raw query string elsewhere would let
`?%63aller=x` (the key percent-encoded) mean one thing to one gate and another to the next.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, MutableMapping
from urllib.parse import parse_qsl

CALLER_RE = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")
_SCOPE_KEY = "widget_server.caller"


def is_valid_caller(value: str | None) -> bool:
    return bool(value) and CALLER_RE.match(value or "") is not None


def read_caller(params: Iterable[tuple[str, str]]) -> str | None:
    """The first non-empty `caller` among decoded (name, value) pairs, stripped; None if none."""
    for name, value in params:
        if name == "caller":
            return value.strip() or None
    return None


def request_caller(scope: MutableMapping[str, Any]) -> str | None:
    """The caller of an HTTP request, decoded as Starlette's QueryParams decodes it; cached in the scope."""
    if _SCOPE_KEY in scope:
        return scope[_SCOPE_KEY]  # type: ignore[no-any-return]
    raw: bytes = scope.get("query_string", b"")
    caller = None
    if raw:
        # Same decoding as starlette.datastructures.QueryParams: latin-1 bytes, then percent-escapes
        # as UTF-8, `+` as a space. Only the pairs are split here, not validated.
        caller = read_caller(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    scope[_SCOPE_KEY] = caller
    return caller


def forget_caller(scope: MutableMapping[str, Any]) -> None:
    """For a refused request whose query is not worth parsing (too long): it names no caller."""
    scope[_SCOPE_KEY] = None
