"""The widget's parameters -> one WidgetState, and the adapter from it to the search's SearchQuery.

Three kinds of parameters arrive at /widget:
- the partner's, La Bonne Alternance's classic ones (`caller`, `romes`, `lat`,
  `lon`, `radius`, `scope`, `diploma`, `job_name`, `frozen_job`, `return_uri`,
  `return_logo_url`, `zipcode`, `insee`, `utm_*`) plus ours (`theme`, `accent`);
- the loader's (`parent_origin`, `wid`);
- the visitor's, when the search form is submitted (`job_name` with `romes` and
  `romes_label`, `place` with `insee` and `place_label`, `types`, `sort`, `page`).

Nothing silently falls back: a partner's mistake becomes a Notice naming the
parameter and the fix (shown in the widget, printed by the loader), a visitor's
unknown métier or place becomes a hint; the widget still shows what it can.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import QueryParams

from widget_server.errors import InvalidParameters
from widget_server.caller import read_caller
from widget_server.query import MAX_PAGE, MAX_RADIUS, MAX_ROMES, ROME_RE, SORTS, TYPES, SearchQuery, \
    parse_search_query
from widget_server.referentials.communes import CommuneIndex
from widget_server.referentials.metiers import MetierIndex
from widget_server.text import fold
from widget_server.web.params import ParamReader
from widget_server.web.widget_theme import normalise_accent
from widget_server.web.widget_urls import safe_url, valid_origin

# La Bonne Alternance chose the perimeter by path; /widget takes `scope`.
PATH_SCOPES = {"/recherche-apprentissage": "all", "/recherche": "all", "/recherche-emploi": "job",
               "/recherche-apprentissage-formation": "training", "/recherche-formation": "training"}
SCOPES = {"all": TYPES, "training": ("formations",), "job": ("offers", "recruiters")}
THEMES = ("light", "dark", "auto")
RADII = (10, 30, 60, 100, 200)
DEFAULT_RADIUS = 30
FRANCE_RADIUS = 20000                # La Bonne Alternance's "France entière" radius
# La Bonne Alternance documented `caller` as "e-mail identifiant" (its tester's default value): any
# readable text is a caller here; only markup and control characters are refused.
WIDGET_CALLER_RE = re.compile(r"[\w .@+:/-]{1,200}")
PAGE_SIZE = 6
NO_CALLER = "widget-sans-caller"     # searches still run; the notice asks for the real one
DECIMAL_COMMA_RE = re.compile(r"\s*-?\d+,\d+\s*")
DECIMAL_PARAMS = ("lat", "lon", "latitude", "longitude", "radius")
WID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
FALSE_WORDS = ("0", "false", "non", "no", "off")
KNOWN = ("caller", "romes", "lat", "lon", "latitude", "longitude", "radius", "scope", "diploma", "job_name",
         "frozen_job", "return_uri", "return_logo_url", "zipcode", "postal_code", "insee", "address", "theme",
         "accent", "parent_origin", "wid", "romes_label", "place", "place_label", "types", "sort", "page",
         "type", "itemId")
MAX_ROME_ITEMS = 100   # values of `romes` looked at; MAX_ROMES of them are used
MAX_NOTICES = 20   # enough to fix a snippet; bounded whatever the query holds
# La Bonne Alternance's spellings of the return link (its docs, its tester and partners' code differ).
RETURN_ALIASES = {"returnURI": "return_uri", "returnUri": "return_uri", "return_url": "return_uri",
                  "returnUrl": "return_uri", "returnURL": "return_uri", "returnLogoURL": "return_logo_url",
                  "return_logo": "return_logo_url"}
# Accepted as La Bonne Alternance took them; what they did cannot be done with our data, and the console says so.
LBA_ACCEPTED = {
    "opco": "le filtre par OPCO n'est pas appliqué : nos données n'indiquent pas l'OPCO des entreprises",
    "opcoUrl": "le filtre par site d'OPCO n'est pas appliqué : nos données n'indiquent pas l'OPCO des entreprises",
    "rncp": "la recherche par code RNCP n'est pas prise en charge : donnez aussi « romes »",
    "display": "la carte n'existe pas ici : les résultats sont en liste",
    "displayMap": "la carte n'existe pas ici : les résultats sont en liste",
    "showCombinedJob": None, "mode": None, "s": None, "activeItems": None, "useMock": None,
    "displayEntreprises": None, "displayFormations": None, "displayFilters": None, "job_type": None,
}


@dataclass(frozen=True)
class Notice:
    """A partner's mistake: which parameter, what to do."""

    param: str
    message: str
    # True only for a mistake that stops the search: shown in the widget. The others go to the
    # console (and the loader's events), never to visitors: LBA's URLs carry many of them.
    visitor: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"param": self.param, "message": self.message, "visitor": self.visitor}


@dataclass
class WidgetState:
    path: str
    scope: str
    caller: str | None = None
    romes: tuple[str, ...] = ()
    job_label: str | None = None
    frozen: bool = False
    centre: dict[str, str] = field(default_factory=dict)   # the place, as search parameters
    place_label: str | None = None
    insee: str | None = None
    coords: tuple[str, str] | None = None   # (lat, lon) when the centre is a point, kept for "Voir plus"
    radius: int = DEFAULT_RADIUS
    france_wide: bool = False            # radius=20000: La Bonne Alternance's "France entière"
    item: tuple[str, str] | None = None  # (type, itemId) of a deep link (page=fiche&type=...&itemId=...)
    types: tuple[str, ...] = TYPES
    chosen_types: tuple[str, ...] = ()   # as ticked in the form (empty: all the scope allows)
    diploma: int | None = None
    sort: str = "distance"
    page: int = 1
    theme: str = "light"
    accent: str | None = None
    return_uri: str | None = None
    return_href: str | None = None
    return_logo_url: str | None = None
    parent_origin: str | None = None
    wid: str | None = None
    utm: list[tuple[str, str]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    # A typed place that matched no commune: the communes it may have meant (maybe none).
    # Then nothing is searched, rather than France-wide behind the visitor's back.
    place_suggestions: list[dict[str, str]] | None = None

    @property
    def scope_types(self) -> tuple[str, ...]:
        return SCOPES[self.scope]

    @property
    def collapsed(self) -> bool:
        """The form folds into one line once the métier and the place are set (nothing left to ask)."""
        return bool(self.romes and self.centre and not self.hints)

    @property
    def summary_line(self) -> str:
        """"Boulanger · Lyon · 30 km": what the folded form says."""
        if not self.romes:
            return "Votre recherche"
        where = ("toute la France" if not self.centre else f"{self.place_label} · France entière"
                 if self.france_wide else f"{self.place_label} · {self.radius} km")
        return f"{self.job_label or ''} · {where}"

    @property
    def visitor_notices(self) -> list[Notice]:
        return [n for n in self.notices if n.visitor]

    def config_params(self) -> list[tuple[str, str]]:
        """What the partner set, carried through every search the visitor makes."""
        # `scope` always travels: /widget/results has no path to tell it.
        pairs = [("caller", self.caller), ("scope", self.scope),
                 ("theme", self.theme if self.theme != "light" else None),
                 ("accent", self.accent), ("return_uri", self.return_uri),
                 ("return_logo_url", self.return_logo_url), ("parent_origin", self.parent_origin),
                 ("wid", self.wid), ("frozen_job", "1" if self.frozen else None)]
        return [(k, v) for k, v in pairs if v] + self.utm

    def form_params(self) -> list[tuple[str, str]]:
        """The whole state as the search form submits it (links such as "Voir plus" are built from it)."""
        pairs: list[tuple[str, str | None]] = [
            ("job_name", self.job_label), ("romes", ",".join(self.romes)), ("romes_label", self.job_label or ""),
            ("place", self.place_label or ""), ("insee", self.insee), ("place_label", self.place_label or ""),
            ("lat", self.coords[0] if self.coords else None), ("lon", self.coords[1] if self.coords else None),
            ("radius", str(self.radius)), ("diploma", str(self.diploma) if self.diploma else None),
            ("sort", self.sort if self.sort != "distance" else None)]
        pairs += [("types", t) for t in self.chosen_types]
        return self.config_params() + [(k, v) for k, v in pairs if v is not None]


def parse_widget(params: QueryParams, path: str, metiers: MetierIndex, communes: CommuneIndex,
                 rome_labels: dict[str, str], referer_origin: str | None = None) -> WidgetState:
    """Every widget parameter, checked; problems become notices and hints, never exceptions."""
    state = WidgetState(path=path, scope=PATH_SCOPES.get(path, "all"))
    params = _decimal_points(params)
    r = ParamReader(params, {"latitude": "lat", "longitude": "lon", "postal_code": "zipcode", **RETURN_ALIASES})
    _scope(r, state)
    _caller(r, state)
    _metier(r, state, params, metiers, rome_labels)
    _place(r, state, params, communes)
    _radius(r, state)
    _item(r, state)
    _types(state, params)
    _diploma(r, state)
    state.sort = r.choice("sort", SORTS, default="distance") or "distance"
    _, page = r.raw("page")
    if page not in ("fiche", "list", "form"):    # La Bonne Alternance's page names, not a page number
        state.page = r.integer("page", lo=1, hi=MAX_PAGE, default=1) or 1
    state.theme = r.choice("theme", THEMES, default="light") or "light"
    _looks(r, state, referer_origin)
    state.utm = [(k, v[:200]) for k, v in params.multi_items() if k.startswith("utm_")][:10]
    state.notices.extend(Notice(e.param, e.message) for e in r.errors)
    for name in params.keys():
        if len(state.notices) >= MAX_NOTICES:
            break
        if name in KNOWN or name in RETURN_ALIASES or name.startswith(("utm_", "_")):
            continue
        if name in LBA_ACCEPTED:
            if LBA_ACCEPTED[name] and params.get(name):
                state.notices.append(Notice(name, f"« {name} » (La Bonne Alternance) est accepté, mais "
                                                  f"{LBA_ACCEPTED[name]}."))
        else:
            state.notices.append(Notice(name[:40], f"Paramètre inconnu « {name[:40]} » : il est ignoré. Vérifiez "
                                                   "son nom (liste des paramètres sur /configurateur)."))
    return state


def _decimal_points(params: QueryParams) -> QueryParams:
    """Coordinates and radii written with a decimal comma (48,85), as French forms produce them."""
    fixed = [(k, v.replace(",", ".") if k in DECIMAL_PARAMS and DECIMAL_COMMA_RE.fullmatch(v) else v)
             for k, v in params.multi_items()]
    return QueryParams(fixed)


def _radius(r: ParamReader, state: WidgetState) -> None:
    used, raw = r.raw("radius")
    if not raw:
        return
    try:
        km = float(raw)
    except ValueError:
        km = -1.0
    if km >= FRANCE_RADIUS:
        # La Bonne Alternance's "France entière": every result in France, the place still names the search.
        state.radius, state.france_wide = FRANCE_RADIUS, True
    elif km.is_integer() and 1 <= km <= MAX_RADIUS:
        state.radius = int(km)
    else:
        state.notices.append(Notice(used, f"« {used} » doit être compris entre 1 et {MAX_RADIUS} km, ou valoir "
                                          f"{FRANCE_RADIUS} pour la France entière (reçu « {raw[:20]} ») : "
                                          f"rayon de {DEFAULT_RADIUS} km."))


ITEM_TYPES = ("training", "formation", "peJob", "matcha", "lba", "lbb", "partnerJob")


def _item(r: ParamReader, state: WidgetState) -> None:
    """La Bonne Alternance's deep link: type=training&itemId=... (with page=fiche or alone)."""
    _, kind = r.raw("type")
    _, item_id = r.raw("itemId")
    if not kind and not item_id:
        return
    if kind not in ITEM_TYPES or not item_id or len(item_id) > 200:
        state.notices.append(Notice("itemId", "Lien vers une fiche : donnez « type » (training, peJob, matcha, lba "
                                              "ou lbb) et « itemId » (l'identifiant de l'élément)."))
        return
    state.item = ("training" if kind == "formation" else kind, item_id)


def _scope(r: ParamReader, state: WidgetState) -> None:
    _, raw = r.raw("scope")
    if not raw:
        return
    if raw not in SCOPES:
        state.notices.append(Notice("scope", f"« scope » doit valoir all, training ou job (reçu « {raw[:20]} ») : "
                                             f"le widget affiche le périmètre « {state.scope} »."))
    elif state.path in PATH_SCOPES and raw != state.scope:
        # As on La Bonne Alternance, whose widget ignored `scope`: the path decides (said in the console).
        state.notices.append(Notice("scope", f"« scope={raw} » est sans effet sur {state.path}, dont le chemin fixe "
                                             f"le périmètre « {state.scope} » : retirez scope ou utilisez "
                                             f"/widget?scope={raw}."))
    else:
        state.scope = raw


def _caller(r: ParamReader, state: WidgetState) -> None:
    r.raw("caller")   # marks it as known; its value is the one every gate reads
    raw = read_caller(r.params.multi_items())
    if not raw:
        # La Bonne Alternance's own links carry none: open mode accepts it (counted apart, as NO_CALLER);
        # strict mode refuses it in _partner_policy.
        state.notices.append(Notice("caller", "« caller » manquant : ajoutez l'identifiant de votre site, "
                                              "ex. caller=mon-site.fr."))
    elif not WIDGET_CALLER_RE.fullmatch(raw):
        state.notices.append(Notice("caller", "« caller » ne peut contenir que des lettres, des chiffres, des "
                                              "espaces et . _ @ + : / - (ex. caller=mon-site.fr)."))
    else:
        state.caller = raw


def _metier(r: ParamReader, state: WidgetState, params: QueryParams, metiers: MetierIndex,
            rome_labels: dict[str, str]) -> None:
    _, raw_romes = r.raw("romes")
    job_name = r.text("job_name", max_len=150)
    romes_label = params.get("romes_label")
    r.raw("romes_label")
    _, frozen_raw = r.raw("frozen_job")
    romes = _valid_romes(raw_romes or "", state, rome_labels)
    if frozen_raw and frozen_raw.lower() not in FALSE_WORDS:
        if romes and job_name:
            state.frozen = True
        else:
            state.notices.append(Notice("frozen_job", "« frozen_job » ne fige le métier qu'avec « romes » et "
                                                      "« job_name » : ajoutez-les ou retirez frozen_job."))
    if state.frozen or (romes and (romes_label is None or fold(job_name or "") == fold(romes_label))):
        state.romes = romes
        state.job_label = job_name or " / ".join(rome_labels.get(c, c) for c in romes[:3])
        return
    if romes_label is not None and not job_name:
        return   # the visitor emptied the métier field
    if job_name:
        found = metiers.search(job_name, 1)
        if found:
            state.romes = tuple(r["code"] for r in found[0]["romes"])[:MAX_ROMES]
            state.job_label = found[0]["label"]
        else:
            state.job_label = job_name
            state.hints.append(f"Aucun métier ni diplôme ne correspond à « {job_name[:60]} ». Essayez un autre mot "
                               "(ex. boulanger, CAP cuisine) et choisissez dans la liste.")


def _valid_romes(raw: str, state: WidgetState, labels: dict[str, str]) -> tuple[str, ...]:
    codes = list(dict.fromkeys(c.strip().upper() for c in raw.split(",", MAX_ROME_ITEMS)[:MAX_ROME_ITEMS]
                               if c.strip()))
    if raw.count(",") >= MAX_ROME_ITEMS:
        state.notices.append(Notice("romes", f"« romes » : plus de {MAX_ROME_ITEMS} valeurs ; {MAX_ROMES} codes "
                                             "ROME au plus sont utilisés, les suivants sont ignorés."))
    # Sets: with lists, thousands of codes took seconds of CPU (each one looked up in the others).
    bad = [c for c in codes if not ROME_RE.fullmatch(c)]
    bad_set = set(bad)
    unknown = [c for c in codes if c not in bad_set and c not in labels]
    unknown_set = set(unknown)
    if bad:
        state.notices.append(Notice("romes", f"« romes » : {', '.join(bad[:3])[:60]} n'est pas un code ROME (une "
                                             "lettre et 4 chiffres, séparés par des virgules : romes=D1102,D1104)."))
    if unknown:
        state.notices.append(Notice("romes", f"« romes » : code(s) ROME inconnu(s) {', '.join(unknown[:3])} ; "
                                             "trouvez les bons avec le configurateur (/configurateur)."))
    good = [c for c in codes if c not in bad_set and c not in unknown_set]
    if codes and not good:
        # Nothing left to search for: the one kind of mistake the visitor sees (the widget cannot work).
        state.notices[:] = [Notice(n.param, n.message, visitor=n.param == "romes" or n.visitor)
                            for n in state.notices]
    if len(good) > MAX_ROMES:
        state.notices.append(Notice("romes", f"« romes » : {len(good)} codes, {MAX_ROMES} au plus ; "
                                             f"seuls les {MAX_ROMES} premiers sont utilisés."))
    return tuple(good[:MAX_ROMES])


def _place(r: ParamReader, state: WidgetState, params: QueryParams, communes: CommuneIndex) -> None:
    lat_name, lat_raw = r.raw("lat")
    lon_name, lon_raw = r.raw("lon")
    _, insee = r.raw("insee")
    zip_name, zipcode = r.raw("zipcode")
    address = r.text("address", max_len=200)
    place = r.text("place", max_len=100)
    place_label = params.get("place_label")
    r.raw("place_label")
    if place_label is not None and fold(place or "") != fold(place_label):
        # The visitor typed another place (or emptied the field: France-wide).
        if place:
            _resolve_place(state, place, communes)
        return
    label = place or address
    if lat_raw or lon_raw:                   # La Bonne Alternance: coordinates; insee/zipcode only label them
        lat = r.number("lat", lo=-90, hi=90, required=True)
        lon = r.number("lon", lo=-180, hi=180, required=True)
        if lat is None or lon is None:
            return
        state.centre = {lat_name: str(lat), lon_name: str(lon)}
        state.coords = (str(lat), str(lon))
        nearest = communes.nearest(lat, lon)
        commune = (communes.get(insee) if insee else None) or (nearest[0] if nearest else None)
        if commune is not None:
            state.insee = commune.insee
        state.place_label = label or (_commune_label(commune) if commune else f"{lat:.3f}, {lon:.3f}")
        return
    if insee:
        commune = communes.get(insee)
        if commune is None:
            state.notices.append(Notice("insee", f"« insee » : aucune commune n'a le code « {insee[:10]} » (5 "
                                                 "caractères, ex. 69123 pour Lyon, pas le code postal)."))
        else:
            _set_commune(state, commune, label)
            return
    if zipcode:
        commune = communes.by_postal_code(zipcode) if re.fullmatch(r"\d{5}", zipcode) else None
        if commune is None:
            state.notices.append(Notice(zip_name, f"« {zip_name} » : aucune commune n'a le code postal "
                                                  f"« {zipcode[:10]} » (5 chiffres, ex. 69003)."))
        else:
            _set_commune(state, commune, label)
        return
    if place:
        _resolve_place(state, place, communes)


def _resolve_place(state: WidgetState, text: str, communes: CommuneIndex) -> None:
    found = communes.search(text, 1)
    if found and (commune := communes.get(found[0]["insee"])):
        _set_commune(state, commune, None)
        return
    # The text stays as typed; the visitor chooses a suggestion, corrects it, or asks for all of France.
    suggestions, _ = communes.suggest(text, 3)
    state.place_label = text
    state.place_suggestions = [{"insee": c["insee"], "label": f"{c['name']} ({c['department']['code']})"}
                               for c in suggestions]
    state.hints.append(f"Lieu introuvable : « {text[:60]} ». Choisissez une commune, corrigez le lieu, ou "
                       "videz-le pour chercher dans toute la France.")


def _commune_label(commune: Any) -> str:
    return f"{commune.name} ({commune.dept_code})" if commune.dept_code else commune.name


def _set_commune(state: WidgetState, commune: Any, label: str | None) -> None:
    state.centre = {"insee": commune.insee}
    state.insee = commune.insee
    state.place_label = label or _commune_label(commune)


def _types(state: WidgetState, params: QueryParams) -> None:
    values = [v.strip() for raw in params.getlist("types") for v in raw.split(",") if v.strip()]
    wrong = [v for v in values if v not in state.scope_types]
    if wrong:
        allowed = ", ".join(state.scope_types)
        state.notices.append(Notice("types", f"« types » : « {wrong[0][:20]} » n'est pas possible ici ; "
                                             f"valeurs : {allowed}."))
    chosen = tuple(t for t in state.scope_types if t in values)
    state.chosen_types = chosen if chosen and len(chosen) < len(state.scope_types) else ()
    state.types = chosen or state.scope_types


def _diploma(r: ParamReader, state: WidgetState) -> None:
    _, raw = r.raw("diploma")
    if not raw or raw.upper() == "INDIFFERENT":
        return
    match = re.fullmatch(r"([3-7])(\s*\(.*\))?", raw)   # La Bonne Alternance sends "5 (BTS, DEUST...)"
    if match is None:
        state.notices.append(Notice("diploma", f"« diploma » : niveau de 3 (CAP) à 7 (Master), reçu "
                                               f"« {raw[:20]} » ; tous les niveaux sont affichés."))
        return
    state.diploma = int(match.group(1))


def _looks(r: ParamReader, state: WidgetState, referer_origin: str | None) -> None:
    used, accent = r.raw("accent")
    if accent:
        state.accent = normalise_accent(accent)
        if state.accent is None:
            state.notices.append(Notice("accent", f"« accent » doit être une couleur hexadécimale, par exemple "
                                                  f"#00aa77 ou 0a7 (dans une adresse : %2300aa77) ; reçu « {accent[:20]} »."))
    _, origin = r.raw("parent_origin")
    if origin:
        state.parent_origin = valid_origin(origin)
        if state.parent_origin is None:
            state.notices.append(Notice("parent_origin", "« parent_origin » doit être une origine comme "
                                                         "https://www.exemple.fr (ajoutée par widget.js)."))
    _, wid = r.raw("wid")
    if wid:
        state.wid = wid if WID_RE.fullmatch(wid) else None
        if state.wid is None:
            state.notices.append(Notice("wid", "« wid » (identifiant posé par widget.js) est mal formé."))
    for name in ("return_uri", "return_logo_url"):
        _, value = r.raw(name)
        if not value:
            continue
        if safe_url(value) is None:
            state.notices.append(Notice(name, f"« {name} » doit être une adresse https://… ou un chemin commençant "
                                              "par / ; javascript:, data: et // sont refusés."))
        else:
            setattr(state, name, value)
    _set_return_href(state, referer_origin)


def _set_return_href(state: WidgetState, referer_origin: str | None) -> None:
    state.return_href = None
    if state.return_uri or state.return_logo_url:
        uri = state.return_uri or "/"
        base = state.parent_origin or referer_origin
        state.return_href = uri if not uri.startswith("/") else (base + uri if base else None)


def keep_partner_links(state: WidgetState, partner: Any, referer_origin: str | None = None) -> None:
    """A registered partner's return link and logo must be on one of its own origins.

    Otherwise anyone could show that partner's widget with a "back" link to another site.
    Paths ("/…") stay: they resolve against the framing page, which frame-ancestors restricts.
    """
    for name in ("return_uri", "return_logo_url"):
        value = getattr(state, name)
        if not value or value.startswith("/"):
            continue
        parts = urlsplit(value)
        if not partner.allows(f"{parts.scheme}://{parts.netloc}"):
            setattr(state, name, None)
            state.notices.append(Notice(name, f"« {name} » doit pointer vers une adresse du site « {partner.caller} » "
                                              f"({partner.csp_sources()}) ou être un chemin commençant par / : "
                                              "elle est ignorée."))
    _set_return_href(state, referer_origin)


def search_caller(caller: str | None) -> str:
    """The caller as the search API spells callers: "contact@site.fr mon-id" becomes "contact@site.fr-mon-id"."""
    if not caller:
        return NO_CALLER
    return re.sub(r"[^A-Za-z0-9._@-]+", "-", caller).strip("-")[:100] or NO_CALLER


def search_query(state: WidgetState, rome_labels: dict[str, str], communes: CommuneIndex,
                 limit: int = PAGE_SIZE) -> SearchQuery | None:
    """The SearchQuery for this state (None without a métier or with a place not found),
    checked by the API's own parser."""
    if not state.romes or state.place_suggestions is not None:
        return None
    centre = state.centre
    radius = MAX_RADIUS if state.france_wide else state.radius
    params: dict[str, str] = {"caller": search_caller(state.caller), "romes": ",".join(state.romes),
                              **centre, "radius": str(radius), "types": ",".join(state.types),
                              "sort": state.sort, "limit": str(limit), "page": str(state.page)}
    if state.diploma:
        params["diploma"] = str(state.diploma)
    for _ in range(3):
        try:
            query = parse_search_query(QueryParams(params), rome_labels, communes)
            # "France entière" around a place: every match, nearest first (the store takes any radius).
            return dataclasses.replace(query, radius_km=FRANCE_RADIUS) if state.france_wide else query
        except InvalidParameters as problems:
            # Whatever the API refuses is dropped, and said: the widget still searches with the rest.
            for detail in problems.details:
                state.notices.append(Notice(detail.param, detail.message, visitor=detail.param in ("romes", "caller")))
                if detail.param in ("romes", "caller"):
                    return None
                if detail.param in centre:
                    for key in centre:
                        params.pop(key, None)
                    state.centre = centre = {}
                params.pop(detail.param, None)
    return None
