"""Memory over a soak: does one worker's RSS stay flat once its caches are full?

    .venv/bin/python bench/bench_soak.py [--dataset var/national.sqlite] [--seconds 180] [--cache-mb 16]

Starts `widget-server serve` (one worker) with a small search cache so that it fills
within the first minute, then sends distinct realistic searches (and some widget pages)
over 4 keep-alive connections for `--seconds`, sampling the server's RSS every 5 s.
Reports the RSS when the cache became full and the slope after it (MB/min), with the
cache's own bytes from /metrics.  Results: bench/RESULTS-soak.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import BENCH_ENV, free_port, realistic_queries, rss_mb  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=ROOT / "var" / "national.sqlite")
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--cache-mb", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ, "WIDGET_DATASET": str(args.dataset), "WIDGET_SEARCH_CACHE_MB": str(args.cache_mb),
           **BENCH_ENV}
    server = subprocess.Popen([sys.executable, "-m", "widget_server", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        queries = realistic_queries(args.dataset, 20000, seed=7)
        stop = time.monotonic() + args.seconds
        sent = [0]

        def worker(offset: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                i = offset
                while time.monotonic() < stop:
                    q = queries[i % len(queries)]
                    path = "/widget" if i % 10 == 0 else "/api/v1/search"
                    client.get(path, params=q)
                    sent[0] += 1
                    i += 4

        threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(4)]
        for t in threads:
            t.start()
        samples = []
        started = time.monotonic()
        while any(t.is_alive() for t in threads):
            text = httpx.get(base + "/metrics").text
            samples.append((time.monotonic() - started, rss_mb(server.pid),
                            metric(text, "widget_search_cache_bytes") / 1e6, sent[0]))
            time.sleep(5)
        full_at = next((s for s in samples if s[2] >= 0.95 * args.cache_mb), None)
        print(f"dataset {args.dataset.name}, cache {args.cache_mb} MB, {args.seconds} s, {sent[0]} requests")
        print("| t s | RSS MB | cache MB | requests |")
        print("|---|---|---|---|")
        for t, rss, cache, n in samples[::3]:
            print(f"| {t:.0f} | {rss:.0f} | {cache:.1f} | {n} |")
        if full_at is not None:
            after = [s for s in samples if s[0] >= full_at[0]]
            minutes = (after[-1][0] - after[0][0]) / 60
            slope = (after[-1][1] - after[0][1]) / minutes if minutes > 0 else float("nan")
            print(f"cache full at {full_at[0]:.0f} s (RSS {full_at[1]:.0f} MB); "
                  f"after it: {slope:+.1f} MB/min over {minutes:.1f} min")
        else:
            print("the cache never filled: raise --seconds or lower --cache-mb")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
