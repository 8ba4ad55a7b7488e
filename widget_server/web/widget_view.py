"""GET /widget (and La Bonne Alternance's paths) and GET /widget/results: the iframe page and its fragments.

The page renders its first results on the server, so they show before any
script runs (and without JavaScript).  "Voir plus" and new searches fetch
/widget/results, which renders the very same Jinja macros: one template for a
result, however it arrives.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from widget_server.sources.lookup import find_item
from widget_server.web import widget_format
from widget_server.web.templating import templates
from widget_server.web.widget_assets import assets, html_response
from widget_server.web.widget_params import PATH_SCOPES, RADII, Notice, WidgetState, keep_partner_links, \
    parse_widget, search_query
from widget_server.web.widget_places import place_choices
from widget_server.web.widget_theme import theme_css

widget_format.register(templates.env)
templates.env.globals["asset"] = lambda name: assets().url(name)
# Compiled once at import rather than by the first visitor (about 60 ms).
for _name in ("widget.html", "_widget_results.html", "_widget_more.html", "_widget_item.html",
              "_widget_section_items.html", "_widget_detail.html"):
    templates.get_template(_name)

HEADINGS = {"formations": "Formations en apprentissage", "offers": "Offres d'emploi en alternance",
            "recruiters": "Entreprises susceptibles de recruter"}
EMPTY = {"formations": "Aucune formation trouvée dans ce rayon.",
         "offers": "Aucune offre d'emploi en alternance dans ce rayon pour le moment.",
         "recruiters": "Aucune entreprise susceptible de recruter repérée dans ce rayon."}
UNAVAILABLE = {"formations": "Les formations sont momentanément indisponibles",
               "offers": "Les offres d'emploi sont momentanément indisponibles",
               "recruiters": "Les entreprises susceptibles de recruter sont momentanément indisponibles"}
TITLES = {"all": "Trouver une alternance", "training": "Trouver une formation en apprentissage",
          "job": "Trouver un employeur en alternance"}
SORT_OPTIONS = (("distance", "Les plus proches"), ("date", "Les offres les plus récentes"),
                ("relevance", "Les plus pertinents"), ("employment", "Formations : meilleur taux d'emploi"))
TYPE_OPTIONS = {"formations": "Formations", "offers": "Offres d'emploi", "recruiters": "Entreprises"}
# La Bonne Alternance's item types (deep links) -> our kinds.
ITEM_KINDS = {"training": "formation", "peJob": "offer", "matcha": "offer", "partnerJob": "offer",
              "lba": "recruiter", "lbb": "recruiter"}
GONE = "L'élément recherché n'existe plus"     # La Bonne Alternance's words


async def widget_page(request: Request) -> Response:
    page = await _prepare(request, request.query_params, request.url.path, framed=True)
    css = theme_css(page["s"].accent)
    page["theme_css"] = css
    html = templates.get_template("widget.html").render(page)
    style_hash = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = ("default-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
           f"object-src 'none'; style-src 'self' 'sha256-{style_hash}'; "
           "img-src 'self' data: https: http://127.0.0.1:* http://localhost:*")
    # "*" would still refuse file:// pages (a webmaster trying a snippet locally, our embed_examples/):
    # "anyone may frame it" is better said by no frame-ancestors at all.
    if page["frame_ancestors"] and page["frame_ancestors"].strip() != "*":
        csp += f"; frame-ancestors {page['frame_ancestors']}"
    # Private: the return link may be resolved from this visitor's Referer.
    return html_response(request, html, {"Content-Security-Policy": csp, "Cache-Control": "private, max-age=60",
                                         "Cross-Origin-Resource-Policy": "cross-origin"},
                         status_code=200 if page["allowed"] else 403)


async def widget_results(request: Request) -> Response:
    """The results region (a new search) or, with part=items, one type's next page ("Voir plus")."""
    part = request.query_params.get("part")
    params = QueryParams([(k, v) for k, v in request.query_params.multi_items() if k != "part"])
    # The partner registry decides here as on /widget: a caller (or page) the widget page refuses gets no results.
    page = await _prepare(request, params, "/widget", framed=True)
    name = "_widget_more.html" if part == "items" else "_widget_results.html"
    html = templates.get_template(name).render(page)
    return html_response(request, html, {"Cache-Control": "private, max-age=60"},
                         status_code=200 if page["allowed"] else 403)


async def _prepare(request: Request, params: QueryParams, path: str, framed: bool = False) -> dict[str, Any]:
    dataset = request.app.state.datasets.get()
    ext = dataset.extensions
    labels = ext["envelopes"].rome_labels
    referer = _referer_origin(request)
    state = parse_widget(params, path, ext["metiers"], ext["communes"], labels, referer)
    detail = _deep_link(dataset, state, labels, ext["communes"])
    frame_ancestors, post_to, allowed = _partner_policy(request, state, referer) if framed else (None, None, True)
    post_to = post_to or state.parent_origin
    query = search_query(state, labels, ext["communes"]) if allowed else None
    body = None
    if query is not None:
        body = await request.app.state.search.body(dataset, query)
        failed = any("error" in body[t] for t in query.types if t in body)
        shown = sum(len(body[t].get("results", ())) for t in query.types if t in body)
        request.app.state.caller_stats.record(query.caller, results=shown, error=failed)
    return {"s": state, "r": results_view(state, body), "title": TITLES[state.scope], "radii": _radii(state),
            "frame_ancestors": frame_ancestors, "post_to": post_to if allowed else None, "allowed": allowed,
            "sort_options": SORT_OPTIONS, "type_options": TYPE_OPTIONS,
            "levels": widget_format.LEVELS, "notices_json": [n.as_dict() for n in state.notices],
            "place_choices": place_choices(state),
            "detail": detail}


def _deep_link(dataset: Any, state: WidgetState, labels: dict[str, str], communes: Any) -> dict[str, Any] | None:
    """The item a deep link names ({"item": envelope} or {"gone": text}); without a search of its
    own, the page searches around the item: its métier, its commune."""
    if state.item is None:
        return None
    kind, item_id = state.item
    item = find_item(dataset, ITEM_KINDS[kind], item_id)
    if item is None:
        return {"item": None, "gone": GONE + " : voici la recherche autour."}
    if not state.romes:
        codes = tuple(r["code"] for r in item["romes"] if r["code"] in labels)[:3]
        state.romes = codes
        state.job_label = state.job_label or " / ".join(labels.get(c, c) for c in codes) or None
    place = item["place"]
    if not state.centre and not state.france_wide and place.get("insee") and communes.get(place["insee"]):
        commune = communes.get(place["insee"])
        state.centre, state.insee = {"insee": commune.insee}, commune.insee
        state.place_label = f"{commune.name} ({commune.dept_code})" if commune.dept_code else commune.name
    return {"item": item, "gone": None}


def results_view(state: WidgetState, body: dict[str, Any] | None) -> dict[str, Any]:
    """What the results templates show, decided here so that the templates stay plain.

    Every sentence must be true: counts are what lies within the radius; trainings from
    farther away are shown apart, with their distance and place said."""
    view: dict[str, Any] = {"state": "initial", "sections": [], "combos": [], "summary": "", "demo": False,
                            "notes": [], "widen": None, "page": state.page, "market": "", "radius": state.radius}
    if body is None:
        view["summary"] = ("Choisissez un métier ou un diplôme pour voir les formations et les employeurs."
                           if not state.hints else "Précisez votre recherche.")
        return view
    where = ("dans toute la France" if not state.centre
             else f"dans toute la France autour de {state.place_label}" if state.france_wide
             else f"à moins de {state.radius} km de {state.place_label}")
    counts, failed, extra = [], 0, []
    for bucket in state.types:
        data = body.get(bucket, {})
        section = {"type": bucket, "heading": HEADINGS[bucket], "items": data.get("results", []),
                   "count": data.get("count", 0), "error": None, "empty": EMPTY[bucket], "next": None,
                   "nearest": data.get("nearest", []) if state.page == 1 else [],
                   "contacts": data.get("contacts", []) if state.page == 1 else [], "widen": None}
        if "error" in data:
            failed += 1
            section["error"] = UNAVAILABLE[bucket] + " ; les autres résultats restent valables."
        else:
            counts.append(widget_format.plural(section["count"], bucket))
            if data.get("next_page"):
                section["next"] = (f"{state.path}?"
                                   + widget_format.query(state.form_params(), types=bucket, page=data["next_page"]))
            if section["count"] == 0 and (wider := data.get("suggested_radius_km")):
                section["widen"] = (f"Élargir à {wider} km",
                                    f"{state.path}?" + widget_format.query(state.form_params(), radius=wider), wider)
            if section["count"] == 0 and section["nearest"]:
                first = section["nearest"][0]["place"]
                section["empty"] = (f"Aucune formation {where} ; les plus proches sont à "
                                    f"{widget_format.km(first['distance_km'])}, à {first['city']} :")
                extra.append(section["empty"].rstrip(" :") + ".")
            elif section["count"] == 0 and section["contacts"]:
                section["empty"] = ("Aucune formation à ce métier n'est connue en France. Ces centres de formation, "
                                    "les plus proches, peuvent vous conseiller :")
                extra.append("Aucune formation à ce métier n'est connue en France.")
        view["sections"].append(section)
    view["combos"] = body.get("combinations", []) if state.page == 1 else []
    meta = body["meta"]
    view["demo"] = bool(meta.get("demo"))
    view["market"] = widget_format.market_sentence(body.get("market"), state.job_label or "") if state.page == 1 else ""
    label = state.job_label or ""
    anything_apart = any(s["nearest"] or s["contacts"] for s in view["sections"])
    if failed == len(state.types):
        view["state"] = "error"
        view["summary"] = "La recherche n'a pas pu aboutir : nos sources de données ne répondent pas. " \
                          "Réessayez dans un instant."
    elif all(s["count"] == 0 for s in view["sections"] if not s["error"]) and not anything_apart:
        view["state"] = "empty"
        view["summary"] = f"Aucun résultat pour « {label} » {where}."
        suggested = meta.get("suggested_radius_km")
        if suggested:
            view["widen"] = (f"Élargir la recherche à {suggested} km",
                             f"{state.path}?" + widget_format.query(state.form_params(), radius=suggested))
        elif state.centre:
            view["widen"] = ("Chercher dans toute la France",
                             f"{state.path}?" + widget_format.query(state.form_params(), place="", insee=None))
    else:
        view["state"] = "results"
        view["summary"] = f"Pour « {label} » {where} : {_and(counts)}." + "".join(f" {e}" for e in extra)
    return view


def _partner_policy(request: Request, state: WidgetState, referer: str | None) -> tuple[str | None, str | None, bool]:
    """(CSP frame-ancestors, postMessage target, allowed) from the partner registry, when there is one."""
    registry = getattr(request.app.state, "partners", None)
    if registry is None:
        return None, state.parent_origin, True
    policy = registry.widget_policy(state.caller, state.parent_origin or referer)
    partner = registry.get(state.caller)
    if partner is not None:
        keep_partner_links(state, partner, referer)
    if not policy.allowed and not state.caller:
        state.notices.append(Notice("caller", "« caller » manquant : ce service n'affiche le widget que pour ses "
                                              "partenaires enregistrés ; ajoutez caller=<votre identifiant>.",
                                    visitor=True))
    elif not policy.allowed:
        state.notices.append(Notice("caller", f"Ce site n'est pas autorisé à afficher le widget de « {state.caller} » "
                                              ": demandez l'ajout de son adresse (origine) à la liste du partenaire.",
                                    visitor=True))
    return policy.frame_ancestors, policy.post_message_origin, policy.allowed


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]


def _radii(state: WidgetState) -> list[int]:
    return sorted(set(RADII) | {state.radius})


def _referer_origin(request: Request) -> str | None:
    """The embedding page's origin, when the browser said it (and it is not ourselves)."""
    referer = request.headers.get("referer", "")
    try:
        parts = urlsplit(referer)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    own = f"{request.url.scheme}://{request.url.netloc}"
    return None if origin == own else origin


def widget_paths() -> list[str]:
    return ["/widget", *PATH_SCOPES]
