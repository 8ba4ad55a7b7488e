"""Benchmark the widget: its weight, and the time from navigation to the first result visible.

    .venv/bin/python bench/bench_widget.py [--runs 20] [--dataset PATH]

Serves the real app with uvicorn on 127.0.0.1 (the default dataset, built
first into bench/out/ when no --dataset is given) and a partner page on
another port, then in headless Chromium (Debian's, /usr/bin/chromium):

- sizes: the loader, and the widget page's own HTML + CSS + JS without result
  data (the page with no métier chosen), gzipped at level 9 and 6;
- "direct": a fresh browser context (cold cache) opens /widget?... and the
  first paint, which holds the server-rendered results, is read from the
  Paint Timing API; the wall clock until Playwright sees the first result is
  given too;
- "embedded": the partner page loads widget.js, which inserts the iframe;
  time from the partner page's navigation start to the frame after the widget's
  "ready" message made the iframe visible (the iframe's own first paint is not
  reported by Chromium while the iframe is still at opacity 0).

Each run uses the next query of a fixed list (métier + commune), one warm-up
round first.  Results: bench/RESULTS-widget.md.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from browser_tools import until  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, _free_port  # noqa: E402

from widget_server.ingest.build import build_dataset  # noqa: E402

QUERIES = [("D1102", "69123"), ("M1805", "31555"), ("G1602", "75056"), ("J1501", "33063"), ("F1703", "44109"),
           ("D1202", "13055"), ("I1604", "67482"), ("M1607", "59350")]
SHOWN = ("document.addEventListener('alternance:ready', () => requestAnimationFrame(() => "
         "requestAnimationFrame(() => { window.shownAt = performance.now(); })));")
FIRST_PAINT = ("(() => { const p = performance.getEntriesByName('first-contentful-paint')[0];"
               " return p ? performance.timeOrigin + p.startTime : null; })()")


SERVE_WIDGET = """
import logging, sys, uvicorn
from pathlib import Path
from widget_server.app import create_app
from widget_server.settings import Settings
logging.getLogger("widget_server.access").setLevel(logging.WARNING)
app = create_app(Settings.from_env({{}}, dataset_path=Path({dataset!r}), reload_interval=0.0))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
SERVE_HOST = """
import sys, uvicorn
sys.path.insert(0, "tests/browser")
from conftest import host_app
uvicorn.run(host_app({widget_origin!r}), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False)
"""


@contextlib.contextmanager
def served(code: str) -> Iterator[str]:
    """Run `code` (a uvicorn server taking its port as argv[1]) in a child process; yield its origin."""
    port = _free_port()
    child = subprocess.Popen([sys.executable, "-c", code, str(port)], cwd=ROOT)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(origin + "/", timeout=1)
                break
            except httpx.TransportError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("a benchmark server did not start") from None
                time.sleep(0.1)
        yield origin
    finally:
        child.terminate()
        child.wait(10)


def gz(body: bytes, level: int) -> int:
    return len(gzip.compress(body, compresslevel=level, mtime=0))


def sizes(origin: str) -> dict[str, tuple[int, int, int]]:
    """name -> (raw bytes, gzip -9, gzip -6)."""
    with httpx.Client(base_url=origin) as client:
        page = client.get("/widget", params={"caller": "bench"}).content
        parts = {"page HTML (no results)": page}
        for url in re.findall(rb'(?:href|src)="(/static/[^"]+)"', page):
            parts[url.decode().split("/")[-1]] = client.get(url.decode()).content
        parts["loader /widget.js"] = client.get("/widget.js").content
    return {name: (len(body), gz(body, 9), gz(body, 6)) for name, body in parts.items()}


def widget_url(origin: str, i: int) -> str:
    rome, insee = QUERIES[i % len(QUERIES)]
    return f"{origin}/widget?{urlencode({'caller': 'bench', 'romes': rome, 'insee': insee})}"


def host_url(origin: str, i: int) -> str:
    rome, insee = QUERIES[i % len(QUERIES)]
    return f"{origin}/container?{urlencode({'caller': 'bench', 'romes': rome, 'insee': insee})}"


def measure(browser: object, widget_origin: str, host_origin: str, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"direct, first paint": [], "direct, first result seen by Playwright": [],
                                   "embedded, results shown in the iframe": []}
    for i in range(-len(QUERIES), runs):           # one warm-up round, not recorded
        # A fresh context (empty cache, new renderer) for each measure: a first visit, every time.
        context = browser.new_context(viewport={"width": 420, "height": 800})  # type: ignore[attr-defined]
        page = context.new_page()
        started = time.perf_counter()
        page.goto(widget_url(widget_origin, i), wait_until="commit")
        page.wait_for_selector(".it, .empty, .none", state="visible")
        seen = (time.perf_counter() - started) * 1000
        direct = until(page, FIRST_PAINT) - page.evaluate("performance.timeOrigin")
        context.close()
        context = browser.new_context(viewport={"width": 420, "height": 800})  # type: ignore[attr-defined]
        # On the partner page: when the widget says "ready" the loader makes the iframe visible; the
        # next frame after that is when the visitor sees the results.
        context.add_init_script(SHOWN)
        page = context.new_page()
        page.goto(host_url(host_origin, i))
        frame = page.locator("iframe").element_handle().content_frame()
        frame.wait_for_selector(".it, .empty, .none", state="visible")
        embedded = until(page, "window.shownAt")
        context.close()
        if i >= 0:
            out["direct, first paint"].append(direct)
            out["direct, first result seen by Playwright"].append(seen)
            out["embedded, results shown in the iframe"].append(embedded)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--dataset", type=Path)
    args = parser.parse_args()
    dataset = args.dataset or ROOT / "bench" / "out" / "widget-dataset.sqlite"
    if args.dataset is None and not dataset.exists():
        print(f"building the default dataset into {dataset} ...", file=sys.stderr)
        build_dataset(ROOT / "data", dataset)

    from playwright.sync_api import sync_playwright

    # The servers run in their own processes: in this one they would share the GIL with Playwright.
    with served(SERVE_WIDGET.format(dataset=str(dataset))) as widget_origin, \
            served(SERVE_HOST.format(widget_origin=widget_origin)) as host_origin:
        weights = sizes(widget_origin)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            timings = measure(browser, widget_origin, host_origin, args.runs)
            version = browser.version
            browser.close()

    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}, Chromium {version}")
    print("\n| file | bytes | gzip -9 | gzip -6 |\n|---|---|---|---|")
    for name, (raw, g9, g6) in weights.items():
        print(f"| {name} | {raw:,} | {g9:,} | {g6:,} |")
    own = [v for k, v in weights.items() if not k.startswith("loader")]
    print(f"| **widget page total (HTML + CSS + JS)** | {sum(v[0] for v in own):,} | {sum(v[1] for v in own):,} "
          f"| {sum(v[2] for v in own):,} |")
    print(f"\n| measure ({args.runs} runs, cold cache each) | p50 ms | p90 ms | min ms | max ms |\n|---|---|---|---|---|")
    for name, values in timings.items():
        print(f"| {name} | {statistics.median(values):.0f} | {percentile(values, 0.9):.0f} | {min(values):.0f} "
              f"| {max(values):.0f} |")


if __name__ == "__main__":
    main()
