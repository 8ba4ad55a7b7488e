"""Build a dataset file from data/: deterministically, and atomically.

The file is written beside its destination under a temporary name and renamed
over it only once complete, so an interrupted build never leaves a half-written
dataset where the service looks for one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Callable

from widget_server import __version__
from widget_server.ingest.reference import load_reference
from widget_server.ingest.referentials import Referentials
from widget_server.store.schema import ITEM_KINDS, ITEMS_DDL, REFERENCE_DDL, SCHEMA_VERSION
from widget_server.store.writer import index_formation_aliases, index_items, renumber_items

SCALES = ("default", "national")

# A build step fills item tables from data/ (real formations, demo records...).
BuildStep = Callable[[sqlite3.Connection, Path, Referentials, str], dict[str, str]]


def build_steps() -> list[tuple[str, BuildStep]]:
    """The item-filling steps, in order: the real formations, then the demo records."""
    from widget_server.ingest.catalogue.step import build_step as catalogue_step
    from widget_server.ingest.demo.step import build_step as demo_step
    from widget_server.ingest.lookup import build_step as lookup_step
    from widget_server.ingest.market import build_step as market_step

    # The market comes before the demo records: they are drawn in proportion to its offers.
    return [("catalogue", catalogue_step), ("market", market_step), ("demo", demo_step),
            ("lookup", lookup_step)]   # counts for the métier lookup, once everything is in


def temporary_path(destination: Path) -> Path:
    return destination.with_name(f".{destination.name}.{os.getpid()}.tmp")


def build_dataset(data_dir: Path, destination: Path, scale: str = "default",
                  now: dt.datetime | None = None) -> dict[str, str]:
    """Build the dataset into `destination` (replaced atomically). Returns its meta table."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(destination)
    tmp.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        conn = sqlite3.connect(tmp)
        try:
            meta = _fill(conn, data_dir, scale, now)
            meta["build_seconds"] = f"{time.perf_counter() - started:.2f}"
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(meta.items()))
            conn.commit()
        finally:
            conn.close()
        os.replace(tmp, destination)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return meta


def _fill(conn: sqlite3.Connection, data_dir: Path, scale: str,
          now: dt.datetime | None) -> dict[str, str]:
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.executescript(REFERENCE_DDL + ITEMS_DDL)
    load_reference(conn, data_dir)
    refs = Referentials(conn)
    built_at = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    meta: dict[str, str] = {
        "schema_version": str(SCHEMA_VERSION),
        "software_version": __version__,
        "scale": scale,
        "built_at": built_at.isoformat(),
    }
    for name, step in build_steps():
        for key, value in step(conn, data_dir, refs, scale).items():
            meta[f"{name}.{key}"] = value
    finalize(conn, meta)
    return meta


def finalize(conn: sqlite3.Connection, meta: dict[str, str], kinds: tuple[str, ...] = ITEM_KINDS) -> None:
    """Index items, count rows and stamp a content version (shared by build and import).

    `kinds`: the item kinds whose R*Tree must be rebuilt (an import changes one kind only).
    """
    for kind in kinds:
        renumber_items(conn, kind)
        index_items(conn, kind)
    if "formation" in kinds:
        index_formation_aliases(conn)
    for table in ("rome", "appellation", "diploma", "commune", "naf", "organisation", *ITEM_KINDS):
        meta[f"count.{table}"] = str(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    for kind in ITEM_KINDS:
        meta[f"count.{kind}.demo"] = str(
            conn.execute(f"SELECT count(*) FROM {kind} WHERE demo = 1").fetchone()[0]
        )
    # The version names the content, not the moment: same inputs, same version.
    digest = conn.execute(
        "SELECT group_concat(name || ':' || sha256, ';') FROM (SELECT * FROM source_file ORDER BY name)"
    ).fetchone()[0] or ""
    counts = ";".join(f"{k}={v}" for k, v in sorted(meta.items()) if k.startswith("count."))
    meta["version"] = hashlib.sha256(
        f"{digest}|{counts}|{meta.get('scale')}|schema {SCHEMA_VERSION}".encode()).hexdigest()[:12]
