"""Real processes for the scale-out tests: redis-server and `widget-server serve`, on free ports of 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx

from widget_server.settings import PROJECT_ROOT

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check, process: subprocess.Popen, what: str, log: Path, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if check():
                return
        except (OSError, httpx.TransportError):   # not listening yet
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)


def stop_process(process: subprocess.Popen) -> None:
    """Terminate, then kill if it will not go."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class RedisServer:
    """A redis-server of its own, nothing saved to disk; stop() and start() again on the same port."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.tmp / f"redis-{self.port}.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.tmp)], stdout=out, stderr=subprocess.STDOUT)
        _wait(self.ping, self.process, "redis-server", log)

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Server:
    def __init__(self, port: int, process: subprocess.Popen, log: Path, workers: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.process = process
        self.log = log
        self.workers = workers

    def get(self, path: str, source: str = "127.0.0.1", **params: str) -> httpx.Response:
        """One request on a new connection (so with several workers any of them may answer),
        from `source` (any 127.x.y.z: a client address of its own for the rate limits)."""
        transport = httpx.HTTPTransport(local_address=source)
        with httpx.Client(base_url=self.base, transport=transport, timeout=10) as client:
            return client.get(path, params=params)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Until /healthz answers and every worker has started (the first answers before the others)."""
        _wait(lambda: httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
              and self.log_text().count("Application startup complete") >= self.workers,
              self.process, "widget-server", self.log, timeout_s)


@contextlib.contextmanager
def widget_server(dataset: Path, tmp: Path, workers: int = 1, *, wait: bool = True, **env: str) -> Iterator[Server]:
    """`widget-server serve` on a free port; with wait=False, call wait_ready() (start several at once)."""
    port = free_port()
    environ = {**os.environ, "WIDGET_DATASET": str(dataset), "WIDGET_RELOAD_INTERVAL": "0", **env}
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "widget_server", "serve", "--port", str(port),
                                    "--workers", str(workers)], env=environ, cwd=PROJECT_ROOT,
                                   stdout=out, stderr=out)
    server = Server(port, process, log, workers)
    try:
        if wait:
            server.wait_ready()
        yield server
    finally:
        stop_process(process)
