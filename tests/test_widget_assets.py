"""The loader and the static assets: headers, caching, weight budgets, and built files matching their sources."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess

import pytest

from widget_server.settings import PROJECT_ROOT
from widget_server.web.widget_assets import assets

LOADER_BUDGET = 2 * 1024          # gzipped bytes
PAGE_BUDGET = 30 * 1024           # the widget page's own HTML + CSS + JS, gzipped, without result data


def gz(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=9, mtime=0))


def test_the_loader_is_javascript_cached_and_revalidated(client):
    r = client.get("/widget.js")
    assert r.status_code == 200 and r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "max-age=300" in r.headers["cache-control"] and "stale-while-revalidate" in r.headers["cache-control"]
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["x-content-type-options"] == "nosniff"
    again = client.get("/widget.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    zipped = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.text == r.text


def test_the_loader_stays_under_2_kb_gzipped():
    assert gz(assets().by_name["loader.js"].body) <= LOADER_BUDGET


def test_the_widget_page_stays_under_30_kb_gzipped(client):
    page = client.get("/widget", params={"caller": "x"}).text     # the form and its states, no result data
    linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert len(linked) == 2
    total = gz(page.encode()) + sum(gz(client.get(url).content) for url in linked)
    assert total <= PAGE_BUDGET


def test_static_assets_have_hashed_names_and_live_a_year(client):
    page = client.get("/widget", params={"caller": "x"}).text
    url = re.search(r'href="(/static/widget\.[0-9a-f]{10}\.css)"', page).group(1)
    r = client.get(url)
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-type"].startswith("text/css")
    assert client.get(url, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    assert client.get("/static/widget.css").status_code == 404          # only hashed names are served
    assert client.get("/static/../settings.py").status_code == 404


def test_no_third_party_address_in_what_the_widget_loads(client):
    page = client.get("/widget", params={"caller": "x", "romes": "D1102"}).text
    head = page.split("<body>")[0]
    assert "https://" not in head and "http://" not in head
    for name in ("widget.css", "widget.js", "loader.js"):
        assert not re.search(rb"https?://", assets().by_name[name].body), name


def test_built_scripts_match_their_sources():
    node = shutil.which("node")
    if node is None or not (PROJECT_ROOT / "node_modules" / "terser").is_dir():
        if os.environ.get("CI"):   # CI installs both (./dev test runs npm ci): never skip there
            pytest.fail("Node and node_modules/terser are needed to check the built scripts (npm ci)")
        pytest.skip("Node and terser are needed to rebuild (npm ci)")
    result = subprocess.run([node, "widget_js/build.mjs", "--check"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
