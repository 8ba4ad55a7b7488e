"""Attacks on a real server: `widget-server serve` started as a subprocess on 127.0.0.1, a free port.

Every attack is bounded in count and time, and runs while another client checks that /healthz
still answers within 0.5 s (HealthWatch): one hostile request must never freeze a worker.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from widget_server.settings import PROJECT_ROOT
from processes import stop_process

HEALTH_BUDGET_S = 0.5
PARTNERS = """
[partners."limited.fr"]
origins = ["https://www.limited.fr"]
rate = 1
burst = 3

[partners."quota.fr"]
origins = ["https://www.quota.fr"]
rate = 1
burst = 3

[partners."partner.fr"]
origins = ["https://www.partner.fr"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raw_get(port: int, target: str, headers: tuple[tuple[str, str], ...] = (), *, timeout: float = 5.0,
            source: str = "127.0.0.1") -> tuple[int, bytes]:
    """One GET over a raw socket (no client-side URL limit, any header lines): (status, whole answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as s:
        head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        s.sendall(head.encode("latin-1"))
        data = b""
        deadline = time.monotonic() + timeout
        while chunk := s.recv(65536):
            data += chunk
            if time.monotonic() > deadline:
                raise TimeoutError(target[:80])
    return int(data.split(b" ", 2)[1]), data


class HealthWatch:
    """Another client polling /healthz (a new connection each time) while an attack runs."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.worst = 0.0
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                status, _ = raw_get(self.port, "/healthz", timeout=5.0, source="127.0.0.3")
            except OSError:
                status = 0
            took = time.perf_counter() - started
            self.worst = max(self.worst, took if status == 200 else 99.0)
            self.count += 1
            self._stop.wait(0.05)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        if exc[0] is None:
            assert self.count >= 1
            assert self.worst < HEALTH_BUDGET_S, f"/healthz took {self.worst:.2f} s during the attack"


class Server:
    def __init__(self, port: int, process: subprocess.Popen, dataset: Path) -> None:
        self.port = port
        self.process = process
        self.dataset = dataset
        self.base = f"http://127.0.0.1:{port}"

    def get(self, target: str, headers: tuple[tuple[str, str], ...] = (), **kw) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
        return raw_get(self.port, target, headers, **kw)

    def watch(self) -> HealthWatch:
        return HealthWatch(self.port)

    def metrics(self) -> str:
        return self.get("/metrics")[1].decode()


@contextlib.contextmanager
def run_server(dataset: Path, tmp: Path, **env: str) -> Iterator[Server]:
    port = free_port()
    partners = tmp / "partners.toml"
    partners.write_text(PARTNERS, encoding="utf-8")
    environ = {**os.environ, "WIDGET_DATASET": str(dataset), "WIDGET_RELOAD_INTERVAL": "0",
               "WIDGET_PARTNERS_FILE": str(partners), "WIDGET_RATE_PER_IP": "0", **env}
    log = open(tmp / f"server-{port}.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "widget_server", "serve", "--port", str(port)],
                               env=environ, cwd=PROJECT_ROOT, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if raw_get(port, "/healthz", timeout=1.0)[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {(tmp / f'server-{port}.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield Server(port, process, dataset)
    finally:
        stop_process(process)
        log.close()


@pytest.fixture(scope="package")
def abuse_dataset(dataset_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session dataset: some tests change theirs, none may touch the shared one."""
    copy = tmp_path_factory.mktemp("abuse") / "dataset.sqlite"
    shutil.copy(dataset_path, copy)
    return copy


@pytest.fixture(scope="package")
def open_server(abuse_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(abuse_dataset, tmp_path_factory.mktemp("open"), WIDGET_PARTNER_MODE="open",
                    WIDGET_METRICS_CALLERS="10", WIDGET_SEARCH_CACHE_MB="0.25", WIDGET_HEADER_TIMEOUT="1",
                    WIDGET_KEEP_ALIVE_TIMEOUT="1") as server:
        yield server


@pytest.fixture(scope="package")
def strict_server(abuse_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(abuse_dataset, tmp_path_factory.mktemp("strict"), WIDGET_PARTNER_MODE="strict") as server:
        yield server
