"""Static assets: content-hashed names cached for a year, gzip prepared once, ETag and 304 everywhere.

Files in widget_server/static/ are read at first use.  Pages link to
`/static/<name>.<hash>.<ext>`, so a new deployment changes the URL and
browsers may keep each version forever (`immutable`).  The loader keeps one
stable address (`/widget.js`, the one partners paste), so it gets a short
max-age, `stale-while-revalidate` and an ETag instead.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from widget_server.settings import PACKAGE_ROOT

STATIC_DIR = PACKAGE_ROOT / "static"
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}
IMMUTABLE = "public, max-age=31536000, immutable"
LOADER_CACHE = "public, max-age=300, stale-while-revalidate=86400"
COMPRESSIBLE = ("text/", "image/svg", "application/json")


@dataclass(frozen=True)
class Asset:
    name: str
    hashed: str
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


def gzip_bytes(body: bytes) -> bytes:
    # mtime=0: the same bytes every time, so the compressed file is cacheable and comparable.
    return gzip.compress(body, compresslevel=9, mtime=0)


class Assets:
    def __init__(self, directory: Path) -> None:
        self.by_name: dict[str, Asset] = {}
        self.by_hashed: dict[str, Asset] = {}
        for path in sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in MEDIA_TYPES):
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()
            media_type = MEDIA_TYPES[path.suffix]
            asset = Asset(path.name, f"{path.stem}.{digest[:10]}{path.suffix}", body,
                          gzip_bytes(body) if media_type.startswith(COMPRESSIBLE) else None,
                          media_type, f'"{digest[:32]}"')
            self.by_name[asset.name] = asset
            self.by_hashed[asset.hashed] = asset

    def url(self, name: str) -> str:
        return "/static/" + self.by_name[name].hashed


@functools.cache
def assets() -> Assets:
    return Assets(STATIC_DIR)


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


def asset_response(request: Request, asset: Asset, cache_control: str, extra: dict[str, str] | None = None) -> Response:
    headers = {"ETag": asset.etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding",
               "X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "cross-origin", **(extra or {})}
    if asset.etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    if asset.gzipped is not None and accepts_gzip(request):
        return Response(asset.gzipped, media_type=asset.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def html_response(request: Request, html: str, headers: dict[str, str], status_code: int = 200) -> Response:
    """An HTML page, gzipped when the browser takes it (pages are small; compressing costs well under 1 ms)."""
    body = html.encode()
    headers = {"Vary": "Accept-Encoding", "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "strict-origin-when-cross-origin", **headers}
    if accepts_gzip(request) and len(body) > 1024:
        return Response(gzip.compress(body, compresslevel=6), status_code=status_code,
                        media_type="text/html; charset=utf-8", headers={**headers, "Content-Encoding": "gzip"})
    return Response(body, status_code=status_code, media_type="text/html; charset=utf-8", headers=headers)


async def static_file(request: Request) -> Response:
    asset = assets().by_hashed.get(request.path_params["name"])
    if asset is None:
        from widget_server.errors import NotFound
        raise NotFound(request.url.path)
    return asset_response(request, asset, IMMUTABLE)


async def loader(request: Request) -> Response:
    """GET /widget.js: the loader partners paste (built from widget_js/loader.js)."""
    # Any page may load it, with or without crossorigin="anonymous".
    return asset_response(request, assets().by_name["loader.js"], LOADER_CACHE,
                          {"Access-Control-Allow-Origin": "*"})
