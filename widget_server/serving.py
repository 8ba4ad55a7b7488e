"""How uvicorn serves the app: explicit connection timeouts, so idle and slow clients cannot hold sockets.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but a connection that
sends nothing at all, or its headers one byte at a time, is never closed: a few thousand of them
exhaust the process's file descriptors (slowloris). GuardedH11Protocol gives every request a
deadline for its headers (WIDGET_HEADER_TIMEOUT), from the moment the connection opens or the
previous answer was sent; past it the connection is closed without an answer.

With `--workers N` (N > 1) the workers share a fresh metrics folder (PROMETHEUS_MULTIPROC_DIR),
so that /metrics sums them all (web/metrics_workers.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import glob
import os
import shutil
import tempfile
from typing import Any, Iterator

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from widget_server.settings import Settings
from widget_server.web.metrics_workers import ENV as METRICS_DIR_ENV

# h11's own default, said here: a request line and headers above it get a 400 from the protocol.
MAX_HEADER_BYTES = 16 * 1024


@functools.cache
def _header_timeout() -> float:
    # Read in the worker process (uvicorn may spawn workers: a class is what travels, not a value).
    return float(Settings.from_env().header_timeout)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers."""

    _header_timer: asyncio.TimerHandle | None = None
    _cycle_at_arm: Any = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        timeout = _header_timeout()
        if timeout > 0:
            self._cycle_at_arm = self.cycle
            self._header_timer = self.loop.call_later(timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def handle_events(self) -> None:
        super().handle_events()
        if self._header_timer is not None and self.cycle is not self._cycle_at_arm:
            self._cancel_header_timer()   # a new request's headers arrived in time

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._arm_header_timer()      # armed first: a pipelined request cancels it at once
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run's connection options, every limit explicit (docs/limits.md)."""
    return {
        "access_log": False,                   # our own JSON access log replaces it
        "http": GuardedH11Protocol,
        "timeout_keep_alive": max(1, round(settings.keep_alive_timeout)),
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "timeout_graceful_shutdown": 10,
    }


@contextlib.contextmanager
def workers_metrics_dir(workers: int) -> Iterator[str | None]:
    """The folder the workers share their metrics in, empty at start; None for a single process
    (unless the operator gave one).

    Set in the environment before uvicorn spawns the workers: prometheus_client chooses where
    values live when it is first imported, in each worker. A folder given by the operator is
    emptied (the files of a previous run would be summed with this one's) and kept; otherwise a
    new temporary folder is made, and removed when the server stops.
    """
    given = os.environ.get(METRICS_DIR_ENV)
    if not given and workers <= 1:
        yield None
        return
    if given:
        os.makedirs(given, exist_ok=True)
        for name in glob.glob(os.path.join(given, "*.db")):
            os.remove(name)
        yield given
        return
    path = tempfile.mkdtemp(prefix="widget-metrics-")
    os.environ[METRICS_DIR_ENV] = path
    try:
        yield path
    finally:
        del os.environ[METRICS_DIR_ENV]
        shutil.rmtree(path, ignore_errors=True)


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    with workers_metrics_dir(workers):
        uvicorn.run("widget_server.app:create_app", factory=True, host=host, port=port, workers=workers,
                    **uvicorn_options(settings))
