"""Benchmark the store's geographic query on the national-scale dataset.

    .venv/bin/python bench/bench_store.py [--dataset var/bench/national.sqlite] [--rebuild]
        [--layout as-built|proposed] [--rounds 50] [--radius 30]

Builds the national dataset (500k recruiters, 100k offers, ~60k formations)
unless the file exists (--rebuild forces it) and records the build time; then
runs `find_nearby` for "one ROME family within 30 km" around 20 places (10
large cities, 10 small towns; coordinates from the commune table), each with a
ROME code apprentices commonly look for, for the three kinds, and prints
p50 / p99 / max.  `--layout proposed` builds with the R*Tree entries of
`widget_server.store.geo.geo_entries()` (sorted, item id packed in the entry id)
instead of the current `writer.index_items`; see RESULTS-store.md.

The dataset goes under var/ (git-ignored), never into data/.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import time
from pathlib import Path

from widget_server.ingest import build as build_module
from widget_server.settings import PROJECT_ROOT
from widget_server.store.database import connect_readonly
from widget_server.store.geo import ENCODED_FLAG, find_nearby, geo_entries
from widget_server.store.schema import ITEM_KINDS

KINDS = ("recruiter", "offer", "formation")
# (INSEE code, ROME code): 10 large cities then 10 small towns; each ROME a métier
# commonly sought in apprenticeship there, chosen before any timing was seen.
PLACES = [
    ("75056", "M1805"),   # Paris: développeur informatique
    ("13055", "G1602"),   # Marseille: cuisine
    ("69123", "D1106"),   # Lyon: vente en alimentation
    ("31555", "F1602"),   # Toulouse: électricité du bâtiment
    ("06088", "D1202"),   # Nice: coiffure
    ("44109", "I1604"),   # Nantes: mécanique automobile
    ("67482", "M1607"),   # Strasbourg: secrétariat
    ("33063", "G1603"),   # Bordeaux: restauration rapide / service
    ("59350", "M1203"),   # Lille: comptabilité
    ("35238", "J1501"),   # Rennes: aide-soignant
    ("38185", "F1703"),   # Grenoble: maçonnerie
    ("21231", "D1102"),   # Dijon: boulangerie
    ("87085", "N1103"),   # Limoges: préparation de commandes
    ("29232", "D1101"),   # Quimper: boucherie
    ("56260", "D1214"),   # Vannes: vente en habillement
    ("23096", "A1203"),   # Guéret: espaces verts
    ("48095", "K2204"),   # Mende: nettoyage
    ("15014", "I1304"),   # Aurillac: maintenance industrielle
    ("01283", "H3203"),   # Oyonnax: plasturgie
    ("15187", "J1301"),   # Saint-Flour: agent de service hospitalier
]


def proposed_index_items(conn: sqlite3.Connection, kind: str) -> int:
    """writer.index_items with geo_entries(): what RESULTS-store.md proposes."""
    conn.execute(f"DELETE FROM {kind}_geo")
    rows = list(geo_entries(conn, kind))
    conn.executemany(f"INSERT INTO {kind}_geo VALUES (?,?,?,?,?,?,?,?,?)", rows)
    return len(rows)


def build(path: Path, layout: str) -> float:
    if layout == "proposed":
        build_module.index_items = proposed_index_items   # the build imported it by name
    started = time.perf_counter()
    build_module.build_dataset(PROJECT_ROOT / "data", path, scale="national")
    return time.perf_counter() - started


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores, {model} ({platform.machine()}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def percentile(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def row(name: str, times: list[float]) -> str:
    return (f"| {name} | {len(times)} | {statistics.median(times):.2f} | {percentile(times, 0.99):.2f}"
            f" | {max(times):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=None,
                        help="dataset file (default var/bench/national-<layout>.sqlite)")
    parser.add_argument("--rebuild", action="store_true", help="build even if the file exists")
    parser.add_argument("--layout", choices=("as-built", "proposed"), default="as-built")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--radius", type=float, default=30.0)
    args = parser.parse_args()
    path = args.dataset or PROJECT_ROOT / "var" / "bench" / f"national-{args.layout}.sqlite"
    if path.resolve().is_relative_to((PROJECT_ROOT / "data").resolve()):
        parser.error("the bench never writes into data/")
    print(machine())
    if args.rebuild or not path.exists():
        seconds = build(path, args.layout)
        print(f"national build: {seconds:.1f} s -> {path} ({path.stat().st_size / 1e6:.0f} MB)")
    conn = connect_readonly(path)
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    if meta.get("scale") != "national":
        print(f"warning: {path} has scale {meta.get('scale')!r}, not 'national'")
    counts = ", ".join(f"{k} {meta.get(f'count.{k}')}" for k in ITEM_KINDS)
    entries = ", ".join(f"{k} {conn.execute(f'SELECT count(*) FROM {k}_geo').fetchone()[0]}" for k in ITEM_KINDS)
    encoded = conn.execute(f"SELECT count(*) FROM recruiter_geo WHERE id >= {ENCODED_FLAG}").fetchone()[0] > 0
    print(f"dataset: {path} ({path.stat().st_size / 1e6:.0f} MB), build_seconds {meta.get('build_seconds')}; "
          f"items: {counts}; R*Tree entries: {entries}; layout: {'geo_entries' if encoded else 'index_items'}")
    places = []
    for insee, rome in PLACES:
        name, lat, lon, population = conn.execute(
            "SELECT name, latitude, longitude, population FROM commune WHERE insee = ?", (insee,)).fetchone()
        places.append((name, population, lat, lon, rome))

    def run(kind: str, place: tuple) -> tuple[float, int]:
        _, _, lat, lon, rome = place
        started = time.perf_counter()
        found = find_nearby(conn, kind, [rome], lat, lon, args.radius)
        return (time.perf_counter() - started) * 1000, len(found)

    # First pass: each query once on a fresh connection (nothing in SQLite's page cache yet).
    cold = [run(kind, p)[0] for p in places for kind in KINDS]
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    per_query: dict[tuple[str, str], list[float]] = {}
    sizes: dict[tuple[str, str], int] = {}
    for _ in range(args.rounds):
        for place in places:
            for kind in KINDS:
                ms, n = run(kind, place)
                times[kind].append(ms)
                per_query.setdefault((place[0], kind), []).append(ms)
                sizes[(place[0], kind)] = n
    everything = [t for ts in times.values() for t in ts]
    print(f"\n{len(places)} places x {len(KINDS)} kinds, radius {args.radius:g} km, {args.rounds} rounds after one cold pass")
    print("| query set | calls | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    print(row("all kinds, cold (first pass)", cold))
    for kind in KINDS:
        print(row(f"{kind}s", times[kind]))
    print(row("all kinds", everything))
    print("\n| place (population) | ROME | recruiters: results / p50 ms | offers | formations |")
    print("|---|---|---|---|---|")
    for name, population, _, _, rome in places:
        cells = [f"{sizes[(name, k)]} / {statistics.median(per_query[(name, k)]):.2f}" for k in KINDS]
        print(f"| {name} ({population:,}) | {rome} | " + " | ".join(cells) + " |")
    # The heaviest case there is: the ROME family with the most recruiters around Paris.
    lat, lon = places[0][2], places[0][3]
    heavy = [("G1602", "cuisine"), ("K2204", "nettoyage")]
    print("\nheaviest families around Paris (recruiters, not in the mix above):")
    for rome, label in heavy:
        ts = []
        for _ in range(max(5, args.rounds // 5)):
            started = time.perf_counter()
            n = len(find_nearby(conn, "recruiter", [rome], lat, lon, args.radius))
            ts.append((time.perf_counter() - started) * 1000)
        print(f"- {rome} ({label}): {n} results, p50 {statistics.median(ts):.1f} ms, max {max(ts):.1f} ms")


if __name__ == "__main__":
    main()
