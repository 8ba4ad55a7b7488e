"""GET /configurateur: every widget parameter, a live preview and the two snippets, for valid settings only.

The configurator checks a configuration with the widget's own parser, so what
it accepts is exactly what the widget accepts; it shows no snippet while
anything is wrong, and says what.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from widget_server.web.templating import templates
from widget_server.web.widget_assets import html_response
from widget_server.web.widget_params import RADII, SCOPES, THEMES, WidgetState, keep_partner_links, parse_widget
from widget_server.web import widget_view  # noqa: F401  (registers the templates' filters)

OWN_PARAMS = ("partial", "loading")
IFRAME_TITLE = "Recherche de formations et d'emplois en alternance"
SCOPE_LABELS = {"all": "Formations, offres et entreprises (all)", "training": "Formations seulement (training)",
                "job": "Offres et entreprises seulement (job)"}
THEME_LABELS = {"light": "Clair", "dark": "Sombre", "auto": "Celui du visiteur (auto)"}
# Mistakes that stop the search (Notice.visitor), and a missing or unreadable caller (a snippet needs
# one), give no code until fixed; any other notice is a warning: the widget ignores that value and
# works, so the preview and the snippet stay, with the warning beside its field.
BLOCKING = frozenset({"caller"})
# The configurator field each parameter is set in (its message is shown next to it).
FIELDS = {"caller": "c-caller", "romes": "c-job", "job_name": "c-job", "romes_label": "c-job", "frozen_job": "c-job",
          "insee": "c-place", "place": "c-place", "zipcode": "c-place", "lat": "c-place", "lon": "c-place",
          "address": "c-place", "radius": "c-radius", "scope": "c-scope", "diploma": "c-diploma",
          "theme": "c-theme", "accent": "c-accent", "return_uri": "c-return", "return_logo_url": "c-logo"}


async def configurator(request: Request) -> Response:
    partial = request.query_params.get("partial") == "1"
    lazy = request.query_params.get("loading") == "lazy"
    given = [(k, v) for k, v in request.query_params.multi_items() if k not in OWN_PARAMS and v != ""]
    page = _page(request, QueryParams(given), lazy, started=bool(given))
    html = templates.get_template("_configurateur_output.html" if partial else "configurateur.html").render(page)
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; frame-src 'self'; connect-src 'self'; "
           "img-src 'self' data: https:; base-uri 'none'; object-src 'none'; frame-ancestors 'self'")
    return html_response(request, html, {"Content-Security-Policy": csp, "Cache-Control": "no-cache"})


def _page(request: Request, params: QueryParams, lazy: bool, started: bool) -> dict[str, Any]:
    ext = request.app.state.datasets.get().extensions
    labels = ext["envelopes"].rome_labels
    state = parse_widget(params, "/widget", ext["metiers"], ext["communes"], labels)
    partner = request.app.state.partners.get(state.caller)
    if partner is not None:
        keep_partner_links(state, partner)
    reasons = [n.message for n in state.notices if n.visitor or n.param in BLOCKING] + state.hints
    warnings = [n.message for n in state.notices if not (n.visitor or n.param in BLOCKING)]
    field_messages: dict[str, list[str]] = {}
    for n in state.notices:
        field_messages.setdefault(FIELDS.get(n.param, ""), []).append(n.message)
    if state.hints:
        field_messages.setdefault("c-job", []).extend(state.hints)
    if not state.romes and not state.hints:
        reasons.append("Choisissez un métier ou un diplôme (romes) : sans lui, le widget ne lance pas de recherche.")
        if started:
            field_messages.setdefault("c-job", []).append(reasons[-1])
    origin = f"{request.url.scheme}://{request.url.netloc}"
    settings = widget_settings(state)
    if lazy:
        settings.append(("loading", "lazy"))
    valid = not reasons
    return {
        "s": state, "reasons": reasons, "warnings": warnings, "valid": valid, "started": started, "lazy": lazy,
        "field_messages": {k: v for k, v in field_messages.items() if k},
        # What was typed, shown back as typed (a refused value stays in its field, next to its message).
        "raw": {k: v for k, v in params.items() if k in ("accent", "return_uri", "return_logo_url")},
        "radii": sorted(set(RADII) | {state.radius}), "scopes": [(k, SCOPE_LABELS[k]) for k in SCOPES],
        "themes": [(k, THEME_LABELS[k]) for k in THEMES],
        "preview_attrs": settings,
        "script_snippet": script_snippet(origin, settings) if valid else "",
        "iframe_snippet": iframe_snippet(origin, settings) if valid else "",
        "lba_url": f"{origin}/widget?{urlencode([(k, v) for k, v in settings if k != 'loading'])}" if valid else "",
    }


def widget_settings(state: WidgetState) -> list[tuple[str, str]]:
    """The parameters a partner needs for this state, in a readable order, defaults left out."""
    pairs: list[tuple[str, str | None]] = [
        ("caller", state.caller), ("romes", ",".join(state.romes)), ("job_name", state.job_label),
        ("frozen_job", "1" if state.frozen else None), ("insee", state.insee),
        ("radius", str(state.radius) if state.radius != 30 else None),
        ("scope", state.scope if state.scope != "all" else None),
        ("diploma", str(state.diploma) if state.diploma else None),
        ("theme", state.theme if state.theme != "light" else None), ("accent", state.accent),
        ("return_uri", state.return_uri), ("return_logo_url", state.return_logo_url),
    ]
    return [(k, v) for k, v in pairs if v]


def script_snippet(origin: str, settings: list[tuple[str, str]]) -> str:
    attrs = "".join(f'\n  data-{k.replace("_", "-")}="{escape(v)}"' for k, v in settings)
    return f'<script src="{escape(origin)}/widget.js"{attrs}\n  async></script>'


def iframe_snippet(origin: str, settings: list[tuple[str, str]]) -> str:
    lazy = any(k == "loading" for k, _ in settings)
    query = urlencode([(k, v) for k, v in settings if k != "loading"])
    lines = [f'<iframe src="{escape(origin)}/widget?{escape(query)}"', f'  title="{IFRAME_TITLE}"']
    if lazy:
        lines.append('  loading="lazy"')
    # Without the loader nothing resizes the frame: a fixed height, as La Bonne Alternance documents.
    lines.append('  style="display:block;width:100%;max-width:100%;height:900px;border:0"></iframe>')
    return "\n".join(lines)
