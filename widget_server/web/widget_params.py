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

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import QueryParams

from widget_server.errors import InvalidParameters
from widget_server.caller import is_valid_caller, read_caller
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
PAGE_SIZE = 6
NO_CALLER = "widget-sans-caller"     # searches still run; the notice asks for the real one
WID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
FALSE_WORDS = ("0", "false", "non", "no", "off")
KNOWN = ("caller", "romes", "lat", "lon", "latitude", "longitude", "radius", "scope", "diploma", "job_name",
         "frozen_job", "return_uri", "return_logo_url", "zipcode", "postal_code", "insee", "address", "theme",
         "accent", "parent_origin", "wid", "romes_label", "place", "place_label", "types", "sort", "page")
MAX_ROME_ITEMS = 100   # values of `romes` looked at; MAX_ROMES of them are used
MAX_NOTICES = 20   # enough to fix a snippet; bounded whatever the query holds
UNSUPPORTED = {"opco": "le filtre par OPCO", "opcoUrl": "le filtre par OPCO", "rncp": "la recherche par code RNCP"}


@dataclass(frozen=True)
class Notice:
    """A partner's mistake: which parameter, what to do."""

    param: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"param": self.param, "message": self.message}


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
        where = f"{self.place_label} · {self.radius} km" if self.centre else "toute la France"
        return f"{self.job_label or ''} · {where}"

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
    r = ParamReader(params, {"latitude": "lat", "longitude": "lon", "postal_code": "zipcode"})
    _scope(r, state)
    _caller(r, state)
    _metier(r, state, params, metiers, rome_labels)
    _place(r, state, params, communes)
    state.radius = r.integer("radius", lo=1, hi=MAX_RADIUS, default=DEFAULT_RADIUS) or DEFAULT_RADIUS
    _types(state, params)
    _diploma(r, state)
    state.sort = r.choice("sort", SORTS, default="distance") or "distance"
    state.page = r.integer("page", lo=1, hi=MAX_PAGE, default=1) or 1
    state.theme = r.choice("theme", THEMES, default="light") or "light"
    _looks(r, state, referer_origin)
    state.utm = [(k, v[:200]) for k, v in params.multi_items() if k.startswith("utm_")][:10]
    state.notices.extend(Notice(e.param, e.message) for e in r.errors)
    for name in params.keys():
        if len(state.notices) >= MAX_NOTICES:
            break
        if name in KNOWN or name.startswith(("utm_", "_")):
            continue
        if name in UNSUPPORTED:
            state.notices.append(Notice(name, f"« {name} » ({UNSUPPORTED[name]} de La Bonne Alternance) n'est pas "
                                              "pris en charge ici : il est ignoré, retirez-le."))
        else:
            state.notices.append(Notice(name[:40], f"Paramètre inconnu « {name[:40]} » : il est ignoré. Vérifiez "
                                                   "son nom (liste des paramètres sur /configurateur)."))
    return state


def _scope(r: ParamReader, state: WidgetState) -> None:
    _, raw = r.raw("scope")
    if not raw:
        return
    if raw not in SCOPES:
        state.notices.append(Notice("scope", f"« scope » doit valoir all, training ou job (reçu « {raw[:20]} ») : "
                                             f"le widget affiche le périmètre « {state.scope} »."))
    elif state.path in PATH_SCOPES and raw != state.scope:
        state.notices.append(Notice("scope", f"« scope={raw} » est sans effet sur {state.path}, dont le chemin fixe "
                                             f"le périmètre « {state.scope} » : retirez scope ou utilisez "
                                             f"/widget?scope={raw}."))
    else:
        state.scope = raw


def _caller(r: ParamReader, state: WidgetState) -> None:
    r.raw("caller")   # marks it as known; its value is the one every gate reads
    raw = read_caller(r.params.multi_items())
    if not raw:
        state.notices.append(Notice("caller", "« caller » manquant : ajoutez l'identifiant de votre site, "
                                              "ex. caller=mon-site.fr."))
    elif not is_valid_caller(raw):
        state.notices.append(Notice("caller", "« caller » ne peut contenir que des lettres, des chiffres et "
                                              ". _ @ - (ex. caller=mon-site.fr)."))
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


def search_query(state: WidgetState, rome_labels: dict[str, str], communes: CommuneIndex,
                 limit: int = PAGE_SIZE) -> SearchQuery | None:
    """The SearchQuery for this state (None without a métier or with a place not found),
    checked by the API's own parser."""
    if not state.romes or state.place_suggestions is not None:
        return None
    params: dict[str, str] = {"caller": state.caller or NO_CALLER, "romes": ",".join(state.romes),
                              **state.centre, "radius": str(state.radius), "types": ",".join(state.types),
                              "sort": state.sort, "limit": str(limit), "page": str(state.page)}
    if state.diploma:
        params["diploma"] = str(state.diploma)
    for _ in range(3):
        try:
            return parse_search_query(QueryParams(params), rome_labels, communes)
        except InvalidParameters as problems:
            # Whatever the API refuses is dropped, and said: the widget still searches with the rest.
            for detail in problems.details:
                state.notices.append(Notice(detail.param, detail.message))
                if detail.param in ("romes", "caller"):
                    return None
                if detail.param in state.centre:
                    for key in state.centre:
                        params.pop(key, None)
                    state.centre = {}
                params.pop(detail.param, None)
    return None
