"""Small hand-made datasets: the real reference tables plus items placed where a test needs them."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any, Iterable

from widget_server.ingest.build import finalize
from widget_server.ingest.reference import load_reference
from widget_server.store.schema import ITEMS_DDL, REFERENCE_DDL
from widget_server.store.writer import insert_items

LYON = (45.7578, 4.8320)        # Place Bellecour
VILLEURBANNE = (45.7719, 4.8902)
VIENNE = (45.5255, 4.8740)      # ~26 km south of Lyon
GRENOBLE = (45.1885, 5.7245)    # ~95 km
PARIS = (48.8566, 2.3522)


def formation(key: str, at: tuple[float, float], romes: Iterable[str], level: int | None = 3, **extra: Any) -> dict[str, Any]:
    return {"key": key, "title": extra.pop("title", f"Formation {key}"), "romes": list(romes), "level": level,
            "latitude": at[0], "longitude": at[1], "city": extra.pop("city", "Ville"), "source": "test",
            "demo": False, "centre_name": f"CFA {key}", "centre_siret": None, **extra}


def offer(key: str, at: tuple[float, float], romes: Iterable[str], created_at: str = "2026-11-01", **extra: Any) -> dict[str, Any]:
    return {"key": key, "title": extra.pop("title", f"Offre {key}"), "romes": list(romes), "contract_nature": "E2",
            "created_at": created_at, "latitude": at[0], "longitude": at[1], "company_name": f"Employeur {key}",
            "source": "test", "demo": True, **extra}


def recruiter(key: str, at: tuple[float, float], romes: Iterable[str], score: float = 50.0, **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": extra.pop("name", f"Entreprise {key}"), "naf": "1071C", "hiring_score": score,
            "romes": list(romes), "latitude": at[0], "longitude": at[1], "source": "test", "demo": True,
            "size_band": "11", **extra}


def build(path: Path, data_dir: Path, formations: list[dict] = (), offers: list[dict] = (),
          recruiters: list[dict] = ()) -> Path:
    cache = os.environ.get("WIDGET_TEST_DATASET_CACHE")
    if cache:
        # bench/mutation.py, for modules that take no part in building: one build per item list,
        # not one per mutant.
        key = hashlib.sha256(repr((formations, offers, recruiters)).encode()).hexdigest()[:16]
        cached = Path(cache) / f"{key}.sqlite"
        cached.parent.mkdir(parents=True, exist_ok=True)
        if not cached.exists():
            _build(cached.with_suffix(".part"), data_dir, formations, offers, recruiters)
            cached.with_suffix(".part").rename(cached)
        shutil.copyfile(cached, path)
        return path
    return _build(path, data_dir, formations, offers, recruiters)


def _build(path: Path, data_dir: Path, formations: list[dict] = (), offers: list[dict] = (),
           recruiters: list[dict] = ()) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(REFERENCE_DDL + ITEMS_DDL)
    load_reference(conn, data_dir)
    insert_items(conn, "formation", formations)
    insert_items(conn, "offer", offers)
    insert_items(conn, "recruiter", recruiters)
    meta = {"scale": "test", "built_at": "2026-11-29T00:00:00+00:00", "schema_version": "1"}
    finalize(conn, meta)
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(meta.items()))
    conn.commit()
    conn.close()
    return path
