"""Benchmark /api/v1/search with France Travail's live offers on, against the fake France Travail.

    .venv/bin/python bench/bench_france_travail.py [--dataset var/dataset.sqlite] [--budget 1.5]

Starts the fake France Travail of the tests (tests/fakes) on 127.0.0.1 and the
service (`widget-server serve`, FT_* settings pointing at the fake, FT_MODE=merge)
in a subprocess, then runs distinct searches (different communes, so neither
our cache nor France Travail's cache answers) over HTTP:
  1. the fake answers every search after 50 ms: search p50 / p99;
  2. the fake hangs: every search must still answer within its budget + 10 %
     (the first ones wait for the budget; once the circuit breaker opens,
     searches answer at once with the embedded offers and a warning).
Results: bench/RESULTS-france-travail.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from fakes.france_travail_server import Behaviour, FakeFranceTravail  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def communes(dataset: Path, n: int) -> list[str]:
    conn = sqlite3.connect(f"file:{dataset}?mode=ro", uri=True)
    rows = conn.execute("SELECT insee FROM commune WHERE kind = 'commune' ORDER BY population DESC LIMIT ?", (n,))
    return [r[0] for r in rows]


def run_searches(base: str, places: list[str]) -> tuple[list[float], list[dict]]:
    times, bodies = [], []
    with httpx.Client(base_url=base, timeout=30) as client:
        for insee in places:
            started = time.perf_counter()
            r = client.get("/api/v1/search", params={"caller": "bench", "romes": "D1212", "insee": insee})
            times.append((time.perf_counter() - started) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"search -> {r.status_code}: {r.text[:300]}")
            bodies.append(r.json())
    return times, bodies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=ROOT / "var" / "dataset.sqlite")
    parser.add_argument("--budget", type=float, default=1.5)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--hanging-searches", type=int, default=20)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "widget_server"]
    if not args.dataset.exists():
        subprocess.run(cli + ["data", "build", "--output", str(args.dataset)], check=True)
    fake = FakeFranceTravail()
    fake.start()
    port = free_port()
    env = {**os.environ, "WIDGET_DATASET": str(args.dataset), "WIDGET_SOURCE_TIMEOUT": str(args.budget),
           "FT_CLIENT_ID": fake.client_id, "FT_CLIENT_SECRET": fake.client_secret,
           "FT_API_URL": fake.api_url, "FT_TOKEN_URL": fake.token_url, "FT_MODE": "merge",
           "WIDGET_RATE_PER_IP": "1000000", "WIDGET_RATE_PER_CALLER": "1000000"}
    server = subprocess.Popen(cli + ["serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        places = communes(args.dataset, args.searches + args.hanging_searches + 20)
        run_searches(base, places[:20])                      # warm up (token, connections)
        fake.script("search", *[Behaviour(delay=0.05) for _ in range(args.searches)])
        fast, fast_bodies = run_searches(base, places[20:20 + args.searches])
        fake.script("search", *[Behaviour(delay=60.0) for _ in range(args.hanging_searches * 2)])
        hanging, hanging_bodies = run_searches(base, places[20 + args.searches:])
    finally:
        server.terminate()
        server.wait(timeout=10)
        fake.stop()

    live = sum(1 for b in fast_bodies if any(o["source"] == "france_travail" for o in b["offers"]["results"]))
    warned = sum(1 for b in hanging_bodies if "warning" in b["offers"])
    limit = args.budget * 1.1 * 1000
    print(f"budget {args.budget} s; dataset {args.dataset}; {os.cpu_count()} cores")
    print("| fake France Travail | searches | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    print(f"| answers in 50 ms | {len(fast)} | {statistics.median(fast):.1f} | {pct(fast, 99):.1f} | {max(fast):.1f} |")
    print(f"| hangs | {len(hanging)} | {statistics.median(hanging):.1f} | {pct(hanging, 99):.1f} | {max(hanging):.1f} |")
    print(f"searches with live offers (50 ms case): {live}/{len(fast)}; "
          f"hanging case answered with embedded offers + warning: {warned}/{len(hanging)}")
    print(f"{'PASS' if max(hanging) <= limit else 'FAIL'}  every hanging-upstream search within budget + 10 % ({limit:.0f} ms)")


if __name__ == "__main__":
    main()
