"""The demo build step: generated recruiters, offers (and, at national scale, formations), flagged demo.

See demo/common.py for what the records are drawn from and how the draws stay deterministic.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from widget_server.ingest.demo.common import SEED, SIZE_BANDS, SIZES, PlacePicker, reference_date, rng_for, size_bands
from widget_server.ingest.demo.formations import generate_formations
from widget_server.ingest.demo.market_shape import ROME_NAF_2025, MarketShape
from widget_server.ingest.demo.offers import generate_offers
from widget_server.ingest.demo.recruiters import THRESHOLD, generate_recruiters
from widget_server.ingest.reference import record_source
from widget_server.ingest.referentials import Referentials


def build_step(conn: sqlite3.Connection, data_dir: Path, refs: Referentials, scale: str) -> dict[str, str]:
    """Fill the offer and recruiter tables (and add formations at national scale) with demo records."""
    sizes = SIZES[scale]
    today = reference_date()
    places = PlacePicker(refs)
    bands = size_bands(data_dir)
    record_source(conn, data_dir, SIZE_BANDS, len(bands), "INSEE tranches d'effectif")
    shape = MarketShape(conn, data_dir, places.places)
    record_source(conn, data_dir, ROME_NAF_2025, shape.rows_2025, "France Travail ROME → NAF, 2025-09")
    recruiters = generate_recruiters(conn, rng_for("recruiters"), places, bands, sizes["recruiters"], shape)
    offers = generate_offers(conn, rng_for("offers"), recruiters, sizes["offers"], today)
    formations = generate_formations(conn, rng_for("formations"), refs, sizes["formations_total"])
    return {
        "seed": SEED,
        "reference_date": today.isoformat(),
        "threshold": f"{THRESHOLD}",
        "recruiters": str(recruiters.count),
        "offers": str(offers),
        "formations": str(formations),
        "shaped_by": "market offers 2021-12-21 (places, métiers), ROME → NAF 2025 (activities)",
    }
