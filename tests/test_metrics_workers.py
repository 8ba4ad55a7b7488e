"""/metrics of `serve --workers 2` counts the requests of both workers, whichever answers the scrape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from processes import widget_server
from test_metrics import _sample

from widget_server.serving import workers_metrics_dir
from widget_server.web.metrics_workers import ENV, forget_dead_workers

SEARCHES = [{"caller": "metriques.fr", "romes": rome, "insee": "69123", "types": "formations", "limit": "1"}
            for rome in ("D1102", "D1104", "H2206", "K2204", "M1607", "G1602")]


def _pids(folder: Path, kind: str) -> set[str]:
    return {name.stem.rsplit("_", 1)[1] for name in folder.glob(f"{kind}_*.db")}


def test_a_scrape_sums_every_worker(dataset_path: Path, tmp_path: Path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"left by an earlier run")
    with widget_server(dataset_path, tmp_path, workers=2, **{ENV: str(folder)}) as server:
        assert not (folder / "counter_1.db").exists()          # emptied at start
        for params in SEARCHES:
            assert server.get("/api/v1/search", **params).status_code == 200
        lookups = 0
        # Each request on a new connection: the kernel hands it to either worker. Until both
        # have counted some (each worker writes its own file), at most a few rounds.
        for _ in range(10):
            for _ in range(10):
                assert server.get("/api/v1/metiers", q="boul").status_code == 200
            lookups += 10
            if len(_pids(folder, "counter")) == 2:
                break
        assert len(_pids(folder, "counter")) == 2, "one worker answered every request"
        for _ in range(6):    # scrapes too land on either worker: every one sees the sums
            text = server.get("/metrics").text
            assert _sample(text, "widget_http_requests_total", route="/api/v1/metiers", status="200") == lookups
            assert _sample(text, "widget_http_requests_total", route="/api/v1/search", status="200") == len(SEARCHES)
            assert _sample(text, "widget_http_request_duration_seconds_count", route="/api/v1/metiers") == lookups
            assert _sample(text, "widget_caller_requests_total", caller="metriques.fr") == len(SEARCHES)
            assert (_sample(text, "widget_search_cache_hits_total") + _sample(text, "widget_search_cache_misses_total")
                    == len(SEARCHES))
            assert _sample(text, "widget_search_cache_entries") == len(SEARCHES)   # six answers, wherever cached
            assert _sample(text, "widget_search_cache_max_bytes") == 2 * 64 * 1024 * 1024   # two live workers
            assert "widget_dataset_info{" in text
    assert folder.is_dir()       # the operator's folder is kept


def test_the_workers_get_a_fresh_folder_removed_at_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(ENV, raising=False)
    with workers_metrics_dir(1) as single:
        assert single is None and ENV not in os.environ       # one process: its own registry
    with workers_metrics_dir(2) as path:
        assert path is not None and os.environ[ENV] == path
        assert os.listdir(path) == []
        Path(path, "counter_123.db").write_bytes(b"x")
    assert not Path(path).exists() and ENV not in os.environ


def test_a_crashed_workers_cache_sizes_leave_the_sums(tmp_path: Path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    for pid in (gone.pid, os.getpid()):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")
    forget_dead_workers(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{gone.pid}.db", f"counter_{os.getpid()}.db", f"gauge_livesum_{os.getpid()}.db"])
