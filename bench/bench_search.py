"""Benchmark /api/v1/search against one running uvicorn server over 127.0.0.1.

    .venv/bin/python bench/bench_search.py [--dataset var/national.sqlite] [--queries 600]

Builds the national-scale dataset first if the file is missing
(`widget-server data build --scale national`), starts `widget-server serve`
on a free port, then, sequentially over one keep-alive connection:
  1. /healthz many times: the floor of the stack (HTTP + Starlette + JSON);
  2. N distinct realistic searches (large cities, small towns, France-wide;
     1 to 5 ROME codes; all types, so combinations are computed): cache misses;
  3. the same N searches again: cache hits.
Reports p50/p99 of each, the server's resident memory, and checks the targets
of issue 4.  Results: bench/RESULTS-search.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Limits meant for the public would throttle a benchmark that hammers from one address.
BENCH_ENV = {"WIDGET_RATE_PER_IP": "1000000", "WIDGET_RATE_PER_CALLER": "1000000"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def realistic_queries(dataset: Path, n: int, seed: int = 20261129) -> list[dict[str, str]]:
    """Distinct searches people would make: where people live, for métiers that have trainings."""
    conn = sqlite3.connect(f"file:{dataset}?mode=ro", uri=True)
    cities = [r[0] for r in conn.execute(
        "SELECT insee FROM commune WHERE kind = 'commune' ORDER BY population DESC LIMIT 60")]
    towns = [r[0] for r in conn.execute(
        "SELECT insee FROM commune WHERE kind = 'commune' AND population BETWEEN 1000 AND 10000 ORDER BY insee")]
    # ROME codes weighted by how many formations carry them: popular métiers are searched more.
    weighted = conn.execute(
        "SELECT rome, count(*) FROM formation_geo GROUP BY rome HAVING count(*) >= 5 ORDER BY rome").fetchall()
    conn.close()
    codes, weights = [r[0] for r in weighted], [r[1] for r in weighted]
    rng = random.Random(seed)
    seen, queries = set(), []
    while len(queries) < n:
        romes = ",".join(sorted(set(rng.choices(codes, weights, k=rng.choice([1, 1, 1, 2, 3, 5])))))
        q = {"caller": "bench", "romes": romes}
        kind = rng.random()
        if kind < 0.45:
            q["insee"] = rng.choice(cities)
        elif kind < 0.9:
            q["insee"] = rng.choice(towns)
        # else: France-wide
        if "insee" in q:
            q["radius"] = str(rng.choice([10, 30, 30, 30, 60, 100]))
        key = tuple(sorted(q.items()))
        if key not in seen:
            seen.add(key)
            queries.append(q)
    return queries


def lba_params(communes: dict[str, tuple[float, float]], q: dict[str, str]) -> dict[str, str]:
    """The search as La Bonne Alternance's partners send it: coordinates and the commune, radius + 2."""
    lat, lon = communes[q["insee"]]
    return {"caller": "bench", "romes": q["romes"], "latitude": f"{lat}", "longitude": f"{lon}",
            "insee": q["insee"], "radius": str(int(q["radius"]) + 2)}


def timed(client: httpx.Client, path: str, params: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path} {params} -> {response.status_code}: {response.text[:300]}")
    return elapsed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered))) - 1)]


def rss_mb(pid: int) -> float:
    total = 0
    for p in [pid] + children(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=ROOT / "var" / "national.sqlite")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--floor-requests", type=int, default=2000)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "widget_server"]
    if not args.dataset.exists():
        subprocess.run(cli + ["data", "build", "--scale", "national", "--output", str(args.dataset)], check=True)
    port = free_port()
    env = {**os.environ, "WIDGET_DATASET": str(args.dataset), **BENCH_ENV}
    server = subprocess.Popen(cli + ["serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(300):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            queries = realistic_queries(args.dataset, args.queries)
            conn = sqlite3.connect(f"file:{args.dataset}?mode=ro", uri=True)
            conn_communes = {i: (lat, lon) for i, lat, lon in conn.execute("SELECT insee, latitude, longitude FROM commune")}
            conn.close()
            for _ in range(200):                        # warm the stack (not the search cache)
                timed(client, "/healthz")
            floor = [timed(client, "/healthz") for _ in range(args.floor_requests)]
            misses = [timed(client, "/api/v1/search", q) for q in queries]
            hits = [timed(client, "/api/v1/search", q) for q in queries]
            # The same searches through La Bonne Alternance's combined route and the widget page's
            # first render, each on other radii so that none is a cache hit of the above.
            lba = [timed(client, "/api/v1/jobsEtFormations", lba_params(conn_communes, q)) for q in queries
                   if "insee" in q]
            pages = [timed(client, "/widget", {**q, "radius": str(int(q.get("radius", "30")) + 1)} if "insee" in q
                           else q) for q in queries]
            memory = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)

    f50, s50, s99, h50 = statistics.median(floor), statistics.median(misses), pct(misses, 99), statistics.median(hits)
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; dataset {args.dataset}")
    print("| what | requests | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, values in (("/healthz (floor)", floor), ("search, distinct (cache misses)", misses),
                         ("search, repeated (cache hits)", hits),
                         ("LBA /api/v1/jobsEtFormations, distinct", lba),
                         ("widget page /widget, first render, distinct", pages)):
        print(f"| {name} | {len(values)} | {statistics.median(values):.2f} | {pct(values, 99):.2f} | {max(values):.2f} |")
    print(f"server resident memory after the run: {memory:.0f} MB")
    checks = {
        "search p50 <= 10 ms": s50 <= 10,
        "search p50 <= 4 x floor": s50 <= 4 * f50,
        "search p99 <= 50 ms": s99 <= 50,
        "cache-hit p50 <= 2 x floor": h50 <= 2 * f50,
        "memory <= 300 MB": memory <= 300,
        "search p99 <= 30 x floor": s99 <= 30 * f50,
    }
    print(f"ratios to the floor: search p50 {s50 / f50:.1f}x, p99 {s99 / f50:.1f}x, hits p50 {h50 / f50:.1f}x, "
          f"LBA p50 {statistics.median(lba) / f50:.1f}x, widget page p50 {statistics.median(pages) / f50:.1f}x")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")


if __name__ == "__main__":
    main()
