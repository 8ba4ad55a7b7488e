"""Load test: concurrent searches against `widget-server serve --workers N` on 127.0.0.1, for N = 1 then 2.

    .venv/bin/python bench/bench_load.py [--dataset var/national.sqlite] [--duration 60]
                                         [--concurrency 16] [--workers 1,2] [--redis] [--build]

For each worker count in turn: starts the server on a free port of 127.0.0.1 (limits raised: one
load generator is one client address), waits for /healthz and every worker, warms it with new
searches until the workers' search caches are nearly full (read from /metrics, which sums the
workers; the caches are bounded in bytes, so that is their steady size), then for
`--duration` seconds keeps
`--concurrency` searches in flight with httpx (asyncio). The mix is what people do: large cities
and small towns (by INSEE code, postal code or coordinates) and some France-wide searches, 1 to 5
ROME codes weighted by how many formations carry them, and a hot set of popular searches that
come back again and again (cache hits) among a stream of new ones. Reports latency percentiles,
throughput, errors (must be 0), and the resident memory of the server's processes (the
supervisor and its workers) cold, after warm-up and at the end (growth after warm-up must stay
within 10 %: past the bounded caches, memory must not grow). Stops the server. Then prints how
throughput and latency scale from the first worker count to the others (a Markdown table).
With `--redis`, a redis-server of its own shares the rate limits (one round trip per request).
Results: bench/RESULTS-load.md.

Only 127.0.0.1 is ever contacted, for a bounded time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx


ROOT = Path(__file__).resolve().parent.parent
# Limits meant for the public would throttle a load generator that is one client address.
BENCH_ENV = {"WIDGET_RATE_PER_IP": "1000000", "WIDGET_RATE_PER_CALLER": "1000000",
             "WIDGET_RATE_BURST_PER_IP": "1000000", "WIDGET_RATE_BURST_PER_CALLER": "1000000"}
MAX_DURATION_S = 600      # a typo in --duration must not turn into an hour of traffic


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class QueryMix:
    """Searches people make: where people live, for métiers that have trainings; some popular ones repeat."""

    def __init__(self, dataset: Path, seed: int, hot: int = 60, hot_share: float = 0.35) -> None:
        conn = sqlite3.connect(f"file:{dataset}?mode=ro", uri=True)
        columns = "insee, latitude, longitude, postal_codes"
        self.cities = conn.execute(f"SELECT {columns} FROM commune WHERE kind = 'commune' "
                                   "ORDER BY population DESC LIMIT 80").fetchall()
        self.towns = conn.execute(f"SELECT {columns} FROM commune WHERE kind = 'commune' "
                                  "AND population BETWEEN 500 AND 10000 ORDER BY insee").fetchall()
        weighted = conn.execute(
            "SELECT rome, count(*) FROM formation_geo GROUP BY rome HAVING count(*) >= 3 ORDER BY rome").fetchall()
        conn.close()
        self.codes, self.weights = [r[0] for r in weighted], [r[1] for r in weighted]
        self.rng = random.Random(seed)
        self.hot = [self.fresh() for _ in range(hot)]
        self.hot_share = hot_share

    def fresh(self) -> dict[str, str]:
        rng = self.rng
        romes = sorted(set(rng.choices(self.codes, self.weights, k=rng.choice([1, 1, 1, 2, 2, 3, 5]))))
        q = {"caller": rng.choice(["bench-partenaire-a", "bench-partenaire-b", "bench-cfa"]), "romes": ",".join(romes)}
        kind = rng.random()
        if kind < 0.9:
            insee, lat, lon, postal_codes = rng.choice(self.cities if kind < 0.45 else self.towns)
            how = rng.random()
            if how < 0.2:
                q["latitude"], q["longitude"] = f"{lat:.4f}", f"{lon:.4f}"
            elif how < 0.4 and postal_codes:
                q["postal_code"] = postal_codes.split()[0]
            else:
                q["insee"] = insee
            q["radius"] = str(rng.choice([10, 30, 30, 30, 60, 100]))
        # else: France-wide
        if rng.random() < 0.15:
            q["types"] = rng.choice(["formations", "offers", "formations,offers"])
        if rng.random() < 0.1:
            q["page"] = "2"
        return q

    def next(self) -> dict[str, str]:
        if self.hot_share and self.rng.random() < self.hot_share:
            # Popular searches are very popular: a skewed pick among the hot set.
            return self.hot[min(int(self.rng.paretovariate(1.2)) - 1, len(self.hot) - 1)]
        return self.fresh()


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (uvicorn's supervisor, its workers, multiprocessing helpers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [p for p, parent in parents.items() if parent in frontier]
        found.extend(frontier)
    return found


def rss_mb(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[pid] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered))) - 1))]


async def drive(base: str, mix: QueryMix, duration_s: float, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    cached = partial = 0
    deadline = time.perf_counter() + duration_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def one_user() -> None:
            nonlocal cached, partial
            while time.perf_counter() < deadline:
                params = mix.next()
                started = time.perf_counter()
                try:
                    response = await client.get("/api/v1/search", params=params)
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__} {params}")
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {params} {response.text[:200]}")
                elif b'"cached":true' in response.content:
                    cached += 1
                elif b'"code":"source_' in response.content:
                    partial += 1        # a 200 where a source ran out of time or failed

        started = time.perf_counter()
        await asyncio.gather(*(one_user() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"latencies": latencies, "errors": errors, "cached": cached, "partial": partial, "elapsed": elapsed}


def cache_fill(base: str) -> float:
    """How full the search caches are, all workers together (/metrics sums them): 0 to 1."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
              if line.startswith(("widget_search_cache_bytes ", "widget_search_cache_max_bytes "))}
    return values["widget_search_cache_bytes"] / max(1.0, values["widget_search_cache_max_bytes"])


def warm_up(base: str, mix: QueryMix, concurrency: int, fill: float, max_s: float) -> float:
    """New searches until the caches are `fill` full (the oldest answers then start to go)."""
    started, hot_share = time.monotonic(), mix.hot_share
    mix.hot_share = 0.0
    try:
        while time.monotonic() - started < max_s:
            asyncio.run(drive(base, mix, 5.0, concurrency))
            if cache_fill(base) >= fill:
                break
    finally:
        mix.hot_share = hot_share
    return time.monotonic() - started


def wait_ready(base: str, server: subprocess.Popen[bytes], log: Path, workers: int, timeout_s: float = 120) -> None:
    """Until /healthz answers and every worker has said it started (the first answers before the others)."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base, timeout=5) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with {server.returncode}")
            try:
                started = log.read_text(errors="replace").count("Application startup complete")
                if client.get("/healthz").status_code == 200 and started >= workers:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz in time")


def run_once(args: argparse.Namespace, workers: int, duration: float, cli: list[str],
             redis_url: str | None) -> dict[str, Any]:
    """One server with `workers` workers: warm-up, measured load, figures."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WIDGET_DATASET": str(args.dataset), **BENCH_ENV}
    if redis_url:
        env["WIDGET_REDIS_URL"] = redis_url
    log = tempfile.NamedTemporaryFile(prefix="bench-load-", suffix=".log", delete=False)   # access logs
    server = subprocess.Popen(cli + ["serve", "--host", "127.0.0.1", "--port", str(port),
                                     "--workers", str(workers)],
                              env=env, stdout=log, stderr=log)
    try:
        wait_ready(base, server, Path(log.name), workers)
        pids = descendants(server.pid)
        cold = rss_mb(pids)
        mix = QueryMix(args.dataset, args.seed)
        warmup_s = warm_up(base, mix, args.concurrency, 0.98,
                           min(args.warmup_max, MAX_DURATION_S))
        warm = rss_mb(pids)
        run: dict[str, Any] = {"latencies": [], "errors": [], "cached": 0, "partial": 0, "elapsed": 0.0}
        series = [round(sum(warm.values()), 1)]
        for _ in range(args.segments):     # one RSS sample per segment shows a plateau or a slope
            part = asyncio.run(drive(base, mix, duration / args.segments, args.concurrency))
            for key in run:
                run[key] += part[key]
            series.append(round(sum(rss_mb(pids).values()), 1))
        end = rss_mb(pids)
        health = httpx.get(f"{base}/healthz", timeout=5).json()
    finally:
        server.send_signal(signal.SIGTERM)      # uvicorn's supervisor stops its workers gracefully
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()

    lat = run["latencies"]
    total_warm, total_end = sum(warm.values()), sum(end.values())
    growth = (total_end - total_warm) / total_warm * 100 if total_warm else 0.0
    figures = {
        "dataset": str(args.dataset), "dataset_version": health["dataset"]["version"],
        "scale": health["dataset"].get("scale"), "counts": health.get("counts", {}),
        "workers": workers, "redis": bool(redis_url), "concurrency": args.concurrency, "warmup_s": round(warmup_s, 1),
        "duration_s": round(run["elapsed"], 1),
        "requests": len(lat) + sum(1 for e in run["errors"] if not e[:3].isdigit()),
        "throughput_rps": round(len(lat) / run["elapsed"], 1), "errors": len(run["errors"]),
        "partial_answers": run["partial"],
        "cache_hit_share": round(run["cached"] / len(lat), 3) if lat else 0.0,
        "p50_ms": round(statistics.median(lat), 2), "p90_ms": round(pct(lat, 90), 2),
        "p99_ms": round(pct(lat, 99), 2), "max_ms": round(max(lat), 2),
        "rss_mb": {"cold": round(sum(cold.values()), 1), "after_warmup": round(total_warm, 1),
                   "end": round(total_end, 1), "growth_pct": round(growth, 1), "series": series,
                   "processes": {str(p): [round(warm.get(p, 0), 1), round(end.get(p, 0), 1)] for p in pids}},
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
                   f"SQLite {sqlite3.sqlite_version}",
        "access_log": log.name,
    }
    figures["errors_sample"] = run["errors"][:10]
    figures["growth_ok"] = growth <= 10
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=ROOT / "var" / "national.sqlite")
    parser.add_argument("--build", action="store_true", help="build the national dataset first if it is missing")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of measured load")
    parser.add_argument("--warmup-max", type=float, default=240.0,
                        help="at most this many seconds of warm-up to fill the workers' caches")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=worker_counts, default=[1, 2],
                        help="worker counts to run one after the other (default 1,2)")
    parser.add_argument("--redis", action="store_true",
                        help="start a redis-server and share the rate limits through it (WIDGET_REDIS_URL)")
    parser.add_argument("--segments", type=int, default=6, help="RSS samples taken during the run")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    duration = min(args.duration, MAX_DURATION_S)
    cli = [sys.executable, "-m", "widget_server"]
    if not args.dataset.exists():
        if not args.build:
            raise SystemExit(f"no dataset at {args.dataset}: build it (widget-server data build --scale national "
                             f"--output {args.dataset}), pass --build, or give --dataset var/dataset.sqlite")
        subprocess.run(cli + ["data", "build", "--scale", "national", "--output", str(args.dataset)], check=True)

    redis = None
    redis_url = None
    if args.redis:   # a redis-server of the bench's own, nothing saved
        redis_port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no"], stdout=subprocess.DEVNULL)
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        time.sleep(0.5)
    try:
        runs = [run_once(args, workers, duration, cli, redis_url) for workers in args.workers]
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()
    print(json.dumps(runs, indent=2, ensure_ascii=False))
    for figures in runs:
        for error in figures["errors_sample"]:
            print(f"error ({figures['workers']} workers):", error, file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2, ensure_ascii=False) + "\n")
    print(scaling_table(runs))
    checks = {f"{f['workers']} workers: {name}": ok for f in runs
              for name, ok in (("no errors", not f["errors"]), ("RSS growth after warm-up <= 10 %", f["growth_ok"]))}
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


def scaling_table(runs: list[dict[str, Any]]) -> str:
    """Markdown: each run's figures, and its throughput against the first run's."""
    base = runs[0]["throughput_rps"] or 1.0
    lines = ["| workers | Redis | requests | throughput | vs first | errors | cache hits | p50 ms | p90 ms | p99 ms "
             "| RSS after warm-up MB | RSS growth |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for f in runs:
        lines.append(f"| {f['workers']} | {'yes' if f['redis'] else 'no'} | {f['requests']:,} | {f['throughput_rps']} r/s | "
                     f"×{f['throughput_rps'] / base:.2f} | {f['errors']} | {f['cache_hit_share'] * 100:.1f} % | "
                     f"{f['p50_ms']} | {f['p90_ms']} | {f['p99_ms']} | {f['rss_mb']['after_warmup']} | "
                     f"{f['rss_mb']['growth_pct']:+.1f} % |")
    return "\n".join(lines)


def worker_counts(value: str) -> list[int]:
    counts = [int(v) for v in value.split(",") if v.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts, e.g. 1,2")
    return counts


if __name__ == "__main__":
    sys.exit(main())
