"""One middleware that times each HTTP request and tells its observers (access log, metrics)."""

from __future__ import annotations

import time
from typing import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# An observer is told (scope, status, seconds) once per request, after the answer.
Observer = Callable[[Scope, int, float], None]


class ObserveMiddleware:
    def __init__(self, app: ASGIApp, observers: Sequence[Observer]) -> None:
        self.app = app
        self.observers = tuple(observers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500   # what the client gets if the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            seconds = time.perf_counter() - started
            for observe in self.observers:
                observe(scope, status, seconds)
