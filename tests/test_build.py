"""The dataset build: deterministic, atomic, and opened read-only by the service."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from widget_server.ingest import build as build_module
from widget_server.ingest.build import build_dataset, temporary_path
from widget_server.store.database import connect_readonly

VOLATILE_META = ("built_at", "build_seconds")


def content_digest(path: Path) -> str:
    """Hash of every row of every table, meta's timestamps excepted."""
    conn = sqlite3.connect(path)
    digest = hashlib.sha256()
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%_geo_%'"
        " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for table in tables:
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1"):
            if table == "meta" and (row[0] in VOLATILE_META or row[0].endswith(".reference_date")):
                continue
            digest.update(repr(row).encode())
    conn.close()
    return digest.hexdigest()


def test_same_inputs_give_the_same_rows(data_dir, dataset_path, tmp_path, monkeypatch):
    monkeypatch.setenv("WIDGET_DEMO_DATE", "2026-01-15")
    first, second = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    build_dataset(data_dir, first)
    build_dataset(data_dir, second)
    assert content_digest(first) == content_digest(second)


def test_a_failed_build_leaves_the_previous_file_in_place(data_dir, dataset_path, tmp_path, monkeypatch):
    destination = tmp_path / "dataset.sqlite"
    destination.write_bytes(dataset_path.read_bytes())
    before = hashlib.sha256(destination.read_bytes()).hexdigest()

    def broken(conn, data_dir):
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_module, "load_reference", broken)
    with pytest.raises(RuntimeError):
        build_dataset(data_dir, destination)
    assert hashlib.sha256(destination.read_bytes()).hexdigest() == before
    assert not temporary_path(destination).exists()


def test_a_killed_build_leaves_the_previous_file_in_place(data_dir, dataset_path, tmp_path):
    destination = tmp_path / "dataset.sqlite"
    destination.write_bytes(dataset_path.read_bytes())
    before = hashlib.sha256(destination.read_bytes()).hexdigest()
    proc = subprocess.Popen(
        [sys.executable, "-m", "widget_server", "data", "build", "--output", str(destination)],
        env={**os.environ, "WIDGET_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # Wait until the build is writing its temporary file, then kill it.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(tmp_path.glob(".dataset.sqlite.*.tmp")):
        time.sleep(0.01)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert hashlib.sha256(destination.read_bytes()).hexdigest() == before
    conn = connect_readonly(destination)
    assert conn.execute("SELECT count(*) FROM rome").fetchone()[0] > 0


def test_the_service_opens_the_dataset_read_only(dataset_path):
    conn = connect_readonly(dataset_path)
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM rome")


def test_reference_tables_are_complete(dataset_path):
    conn = connect_readonly(dataset_path)
    count = lambda t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: E731
    assert count("rome") == 1584
    assert count("appellation") == 13120
    assert count("commune") > 34_800
    assert count("naf") == 732
    # Every v4 fiche points to a v3 parent that is itself a known code.
    orphans = conn.execute(
        "SELECT count(*) FROM rome WHERE parent NOT IN (SELECT code FROM rome)").fetchone()[0]
    assert orphans == 0
    # Former communes still resolve (sources from 2020 use them).
    assert count("commune_alias") > 1000
