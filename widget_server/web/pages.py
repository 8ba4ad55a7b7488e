"""The HTML side of the service: home page, widget (page, fragments, loader, assets), configurator, examples.

`widget_routes()` is what create_app mounts; the handlers live in the
widget_* modules beside this one.
"""

from __future__ import annotations

import functools
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from widget_server.errors import NotFound
from widget_server.settings import PROJECT_ROOT
from widget_server.web import widget_assets, widget_config, widget_view
from widget_server.web.templating import templates
from widget_server.web.widget_assets import html_response

EXAMPLES_DIR = PROJECT_ROOT / "embed_examples"
EXAMPLE_ORIGIN = "http://127.0.0.1:8000"   # what the example files reference, to work as-is with ./dev serve
EXAMPLE_TITLES = {
    "script-tag.html": "Une balise script",
    "two-widgets.html": "Deux widgets sur une page (conteneurs)",
    "iframe-lba-url.html": "Une adresse La Bonne Alternance, notre hôte",
    "events.html": "Écouter les événements du widget",
}
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
            "object-src 'none'; form-action 'self'; frame-ancestors 'self'")
# Examples are plain partner pages: their inline script and style are part of what they show.
EXAMPLE_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "frame-src 'self'; img-src 'self' data:; base-uri 'none'; object-src 'none'; "
               "frame-ancestors 'self'")   # a partner copies them; no other site frames ours


def widget_routes() -> list[Route]:
    return [
        Route("/", home, methods=["GET"]),
        *(Route(path, widget_view.widget_page, methods=["GET"]) for path in widget_view.widget_paths()),
        Route("/widget/results", widget_view.widget_results, methods=["GET"]),
        Route("/widget.js", widget_assets.loader, methods=["GET"]),
        Route("/static/{name}", widget_assets.static_file, methods=["GET"]),
        Route("/configurateur", widget_config.configurator, methods=["GET"]),
        Route("/exemples/{name}", example, methods=["GET"]),
    ]


async def home(request: Request) -> Response:
    html = templates.get_template("home.html").render(examples=_examples())
    return html_response(request, html, {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "public, max-age=300"})


@functools.cache
def _examples() -> list[tuple[str, str]]:
    found = sorted(p.name for p in EXAMPLES_DIR.glob("*.html")) if EXAMPLES_DIR.is_dir() else []
    return [(name, EXAMPLE_TITLES.get(name, name)) for name in found]


async def example(request: Request) -> Response:
    """An embed example, as a partner would copy it, pointing at this very server."""
    name = request.path_params["name"]
    if name not in dict(_examples()) or not re.fullmatch(r"[a-z0-9-]+\.html", name):
        raise NotFound(request.url.path)
    text = (EXAMPLES_DIR / name).read_text(encoding="utf-8")
    text = text.replace(EXAMPLE_ORIGIN, f"{request.url.scheme}://{request.url.netloc}")
    return html_response(request, text, {"Cache-Control": "no-cache", "Content-Security-Policy": EXAMPLE_CSP})
