"""Bounds on the query string, checked before anything parses it: 414 when too long, 400 when too many parameters.

Without them one request of 16,000 unknown names kept a worker busy for 30 s (every error was
compared with every other), and the event loop with it: /healthz waited too. The check only
measures and counts bytes, so its cost does not grow with what the client sends beyond the limit.
No page or API call of ours needs more than a few dozen parameters or 2 KB of query.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from widget_server.caller import forget_caller
from widget_server.errors import ParameterError, ServiceError
from widget_server.web.responses import error_response

MAX_QUERY_BYTES = 8192
MAX_PARAMS = 100


class QueryTooLong(ServiceError):
    def __init__(self, size: int) -> None:
        super().__init__(414, "query_too_long",
                         f"L'adresse est trop longue : {size} octets de paramètres, {MAX_QUERY_BYTES} au plus. "
                         "Retirez les paramètres inutiles.")


class TooManyParameters(ServiceError):
    def __init__(self, count: int) -> None:
        super().__init__(400, "invalid_parameters", f"Trop de paramètres : {count}, {MAX_PARAMS} au plus.",
                         [ParameterError("(query)", "too_many_parameters",
                                         f"La requête a {count} paramètres ; {MAX_PARAMS} au plus sont acceptés. "
                                         "Retirez les paramètres inutiles.")])


def query_problem(query_string: bytes) -> ServiceError | None:
    """The error a query string deserves before it is parsed, or None when it is within bounds."""
    if len(query_string) > MAX_QUERY_BYTES:
        return QueryTooLong(len(query_string))
    if query_string:
        count = query_string.count(b"&") + 1   # urllib.parse splits on "&" only
        if count > MAX_PARAMS:
            return TooManyParameters(count)
    return None


class QueryLimitsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = query_problem(scope.get("query_string", b""))
            if problem is not None:
                forget_caller(scope)   # nor do the access log and metrics parse it afterwards
                await error_response(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)
