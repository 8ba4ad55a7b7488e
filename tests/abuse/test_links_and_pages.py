"""Issue 13, points 7 and 8, and the connection limits: unsafe links, partner links, idle and slow clients."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.abuse.conftest import run_server
from widget_server.settings import PROJECT_ROOT

UNSAFE = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
          "//evil.example/x", "java\tscript:alert(1)", " JavaScript:alert(1)"]
CATALOGUE = PROJECT_ROOT / "data" / "samples" / "catalogue-apprentissage_formations_sample.json"


def _json(answer: bytes) -> dict:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


def _urls(body: dict) -> list:
    return [item.get("url") for bucket in ("formations", "offers", "recruiters")
            for item in body.get(bucket, {}).get("results", [])]


@pytest.fixture(scope="module")
def poisoned(abuse_dataset, tmp_path_factory):
    """A dataset written before links were checked: every formation near Lyon has an unsafe URL."""
    tmp = tmp_path_factory.mktemp("poisoned")
    path = tmp / "dataset.sqlite"
    with sqlite3.connect(abuse_dataset) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
        ids = [row[0] for row in dst.execute("SELECT id FROM formation")]
        dst.executemany("UPDATE formation SET url = ? WHERE id = ?",
                        [(UNSAFE[i % len(UNSAFE)], id_) for i, id_ in enumerate(ids)])
    with run_server(path, tmp) as server:
        yield server


def test_unsafe_urls_already_in_a_dataset_are_never_served(poisoned) -> None:
    with poisoned.watch():
        status, answer = poisoned.get("/api/v1/search?caller=site.fr&romes=D1102&types=formations&limit=100",
                                      timeout=10)
    body = _json(answer)
    assert status == 200 and body["formations"]["results"]
    assert all(url is None for url in _urls(body))


def test_unsafe_urls_are_dropped_at_import_with_a_row_report(abuse_dataset, tmp_path) -> None:
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    for i, record in enumerate(data["formations"]):
        record["onisep_url"] = UNSAFE[i % len(UNSAFE)] if i % 2 == 0 else "https://www.onisep.fr/ok"
    source = tmp_path / "catalogue.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    dataset = tmp_path / "dataset.sqlite"
    with sqlite3.connect(abuse_dataset) as src, sqlite3.connect(dataset) as dst:
        src.backup(dst)
    run = subprocess.run([sys.executable, "-m", "widget_server", "data", "import", "formations", str(source),
                          "--json"], env={"WIDGET_DATASET": str(dataset), "PATH": "/usr/bin:/bin"},
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)["report"]
    assert report["notes"].get("unsafe_url", 0) >= 1
    assert report["fixes"] and all(f["reason"] == "unsafe_url" for f in report["fixes"])
    with sqlite3.connect(dataset) as conn:
        urls = [u for (u,) in conn.execute("SELECT url FROM formation WHERE url IS NOT NULL")]
    assert urls and all(u.startswith("https://") for u in urls)


def test_a_partner_return_link_must_be_on_its_own_origins(open_server) -> None:
    base = "/widget?caller=partner.fr&romes=D1102&parent_origin=https://www.partner.fr"
    status, answer = open_server.get(base + "&return_uri=https://evil.example/phish"
                                     "&return_logo_url=https://evil.example/logo.png")
    html = answer.decode()
    assert status == 200
    assert 'href="https://evil.example/phish"' not in html and 'src="https://evil.example/logo.png"' not in html
    assert "doit pointer vers une adresse du site" in html
    status, answer = open_server.get(base + "&return_uri=https://www.partner.fr/retour")
    assert 'href="https://www.partner.fr/retour"' in answer.decode()
    # Open mode, unregistered caller: any https URL, as before.
    status, answer = open_server.get("/widget?caller=autre.fr&romes=D1102&return_uri=https://ailleurs.example/r")
    assert 'href="https://ailleurs.example/r"' in answer.decode()


def test_slow_headers_and_idle_connections_are_closed(open_server) -> None:
    # WIDGET_HEADER_TIMEOUT=1 and WIDGET_KEEP_ALIVE_TIMEOUT=1 on this server.
    with open_server.watch():
        silent = socket.create_connection(("127.0.0.1", open_server.port), timeout=5)
        slow = socket.create_connection(("127.0.0.1", open_server.port), timeout=5)
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")        # headers never finished
        idle = socket.create_connection(("127.0.0.1", open_server.port), timeout=5)
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        assert idle.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(2.5)
        for sock in (silent, slow, idle):
            assert sock.recv(65536) == b""                               # closed by the server
            sock.close()


def test_example_pages_cannot_be_framed_by_other_sites(open_server) -> None:
    status, answer = open_server.get("/exemples/script-tag.html")
    head = answer.split(b"\r\n\r\n", 1)[0].decode().lower()
    assert status == 200 and "frame-ancestors 'self'" in head
