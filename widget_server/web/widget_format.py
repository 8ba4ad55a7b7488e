"""French formatting for the widget's templates (numbers, distances, dates, levels, links), as Jinja filters."""

from __future__ import annotations

import hashlib
import re
from typing import Any, Iterable
from urllib.parse import quote, urlencode

from jinja2 import Environment

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
LEVELS = {3: "CAP, BEP (niveau 3)", 4: "Bac, BP, BT (niveau 4)", 5: "Bac+2 : BTS, DEUST (niveau 5)",
          6: "Bac+3/4 : licence, BUT (niveau 6)", 7: "Bac+5 : master, ingénieur (niveau 7)"}
SHORT_LEVELS = {3: "CAP", 4: "Bac", 5: "Bac+2", 6: "Bac+3/4", 7: "Bac+5"}
TYPE_WORDS = {"formations": ("formation", "formations"), "offers": ("offre d'emploi", "offres d'emploi"),
              "recruiters": ("entreprise", "entreprises")}
NNBSP = "\u202f"   # French thousands separator


def fr_number(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", NNBSP).replace(".", ",")
    return f"{int(value):,}".replace(",", NNBSP)


def km(distance: float | None) -> str:
    if distance is None:
        return ""
    return f"{fr_number(round(distance)) if distance >= 10 else fr_number(round(distance, 1))} km"


def fr_date(iso: str | None) -> str:
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso or "")
    if match is None:
        return iso or ""
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        return iso or ""
    return f"{'1er' if day == 1 else day} {MONTHS[month - 1]} {year}"


def months(entry_periods: str | None) -> str:
    """The catalogue gives entry months as numbers ("9", "9,10"); "0" means unknown."""
    if not entry_periods:
        return ""
    parts = [p for p in re.split(r"[,;\s]+", entry_periods.strip()) if p]
    if parts and all(p.isdigit() for p in parts):
        names = [MONTHS[int(p) - 1] for p in parts if 1 <= int(p) <= 12]
        return ", ".join(dict.fromkeys(names))
    return entry_periods


def plural(count: int, kind: str) -> str:
    one, many = TYPE_WORDS.get(kind, (kind, kind + "s"))
    return f"{fr_number(count)} {one if count <= 1 else many}"


def level(value: int | None) -> str:
    return LEVELS.get(value, "") if value else ""


def short_level(value: int | None) -> str:
    return SHORT_LEVELS.get(value, "") if value else ""


def dom_id(item_id: str, prefix: str = "r") -> str:
    """A stable, unique, valid element id for a result (its id has ':' and more)."""
    return f"{prefix}-{hashlib.sha1(item_id.encode()).hexdigest()[:12]}"


def map_url(place: dict[str, Any]) -> str:
    lat, lon = place["latitude"], place["longitude"]
    return f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=15/{lat:.5f}/{lon:.5f}"


def directions_url(place: dict[str, Any]) -> str:
    """OpenStreetMap's route planner to the place (a plain link: nothing is loaded from another site)."""
    return (f"https://www.openstreetmap.org/directions?route=%3B{place['latitude']:.5f}%2C{place['longitude']:.5f}"
            f"#map=14/{place['latitude']:.5f}/{place['longitude']:.5f}")


def month_names(numbers: Iterable[int] | None) -> str:
    return ", ".join(MONTHS[n - 1] for n in sorted(set(numbers or ())) if 1 <= n <= 12)


def pct(value: float | None) -> str:
    return "" if value is None else f"{fr_number(round(value))}{NNBSP}%"


PRECISION_NOTES = {"organisation": "adresse de l'organisme de formation",
                   "commune": "lieu exact inconnu : centre de la commune"}


def precision_note(precision: str | None) -> str:
    """What a learner should know about where the pin is (nothing when it is the site itself)."""
    return PRECISION_NOTES.get(precision or "", "")


# A 17-year-old's words for DARES's hiring-tension levels (1 = employers find people easily).
TENSION_WORDS = {1: "trouvent facilement des candidats", 2: "trouvent assez facilement des candidats",
                 3: "ont parfois du mal à recruter", 4: "ont du mal à recruter",
                 5: "ont beaucoup de mal à recruter"}


def market_sentence(market: dict[str, Any] | None, job_label: str) -> str:
    """One plain sentence about the local job market, with its sources and dates."""
    if not market:
        return ""
    parts = []
    offers = market.get("offers")
    if offers and offers.get("count") is not None:
        count = offers["count"]
        words = "aucune offre d'emploi n'était ouverte" if count == 0 else (
            f"{fr_number(count)} offre{'s' if count > 1 else ''} d'emploi {'étaient ouvertes' if count > 1 else 'était ouverte'}")
        parts.append(f"En décembre 2021, {words} à moins de {fr_number(offers['radius_km'])} km "
                     f"pour ce métier, tous contrats confondus (France Travail)")
    tension = market.get("tension")
    levels = [t for t in (tension or {}).get("by_rome", ()) if t.get("level")]
    if tension and levels:
        top = max(levels, key=lambda t: t["level"])
        parts.append(f"les employeurs du bassin d'emploi {tension['area']['name']} {TENSION_WORDS[top['level']]} "
                     f"(DARES, {tension['year']})")
    if not parts:
        return ""
    sentence = " ; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def web_url(url: str | None) -> str:
    """`url` if it is an absolute http(s) URL, else "": a link from imported data (an offer's, a training's,
    a company's site) must never be javascript:, data:, vbscript: or protocol-relative."""
    return url if url and re.match(r"https?://", url, re.IGNORECASE) else ""


def rncp_url(rncp: str | None) -> str:
    digits = re.fullmatch(r"RNCP(\d{2,6})", rncp or "")
    return f"https://www.francecompetences.fr/recherche/rncp/{digits.group(1)}/" if digits else ""


def mailto(email: str, title: str) -> str:
    subject = quote(f"Candidature spontanée en alternance — {title}"[:120])
    return f"mailto:{quote(email, safe='@.+-_')}?subject={subject}"


def email_href(email: str) -> str:
    """mailto: for a role address from the data, with nothing but the address in it."""
    return f"mailto:{quote(email, safe='@.+-_')}" if re.fullmatch(r"[^@\s?&#]+@[^@\s?&#]+", email or "") else ""


def tel(phone: str) -> str:
    return "tel:" + re.sub(r"[^0-9+]", "", phone)


def query(pairs: Iterable[tuple[str, Any]], **extra: Any) -> str:
    """A query string from (name, value) pairs; `extra` replaces pairs of the same name."""
    kept = [(k, v) for k, v in pairs if k not in extra]
    return urlencode(kept + [(k, v) for k, v in extra.items() if v is not None])


def register(env: Environment) -> None:
    env.filters.update(fr_number=fr_number, km=km, fr_date=fr_date, months=months, plural=plural, level=level,
                       short_level=short_level, dom_id=dom_id, map_url=map_url, rncp_url=rncp_url,
                       web_url=web_url, mailto=mailto, tel=tel, directions_url=directions_url,
                       month_names=month_names, pct=pct, precision_note=precision_note,
                       email_href=email_href)
    env.globals["query"] = query
