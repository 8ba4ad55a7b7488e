"""The partner registry: which sites (callers) may embed the widget and call the API, from which origins.

A partners file (TOML or JSON) maps each `caller` to the origins of its pages and, optionally, its
own request rate:

    [partners."mon-site.fr"]
    origins = ["https://www.mon-site.fr", "https://*.mon-site.fr"]
    rate = 20      # requests per second, all its visitors together (optional)
    burst = 40     # optional

Registered partners are always held to their origins. The mode decides what happens to everyone
else: `open` accepts any caller from anywhere (the embedded demo), `strict` accepts registered
callers only. The same lists feed three things, so they cannot drift apart: the API's CORS
answer, the widget page's CSP `frame-ancestors`, and the origin the widget posts messages to.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from widget_server.errors import OriginNotAllowed, UnknownCaller
from widget_server.caller import CALLER_RE
from widget_server.settings import SettingError, Settings

MODES = ("open", "strict")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# scheme://[*.]host[:port], nothing after: an origin is what a browser sends in `Origin`.
_ORIGIN_RE = re.compile(
    r"^(?P<scheme>https?)://(?P<wild>\*\.)?"
    r"(?P<host>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?$"
)
_PARTNER_KEYS = {"origins", "rate", "burst"}


class PartnersFileError(SettingError):
    """The partners file cannot be used; the message names the file, the partner and the fix."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int
    wildcard: bool = False

    def __str__(self) -> str:
        port = "" if _DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{'*.' if self.wildcard else ''}{self.host}{port}"

    def matches(self, other: Origin) -> bool:
        if self.scheme != other.scheme or self.port != other.port:
            return False
        if self.wildcard:
            # Like CSP's `*.example.fr`: any sub-domain, at any depth, but not the domain itself.
            return other.host.endswith("." + self.host)
        return other.host == self.host


def parse_origin(text: str, *, allow_wildcard: bool = False) -> Origin | None:
    """The origin in `text` (lower-cased, default port made explicit), or None if it is not one."""
    m = _ORIGIN_RE.match(text.strip().lower()) if len(text) <= 300 else None
    if m is None or (m["wild"] and not allow_wildcard):
        return None
    scheme, host = m["scheme"], m["host"]
    port = int(m["port"]) if m["port"] else _DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        return None
    if m["wild"] and (host.startswith("[") or "." not in host):
        return None   # `*.fr` would hand a whole top-level domain to one partner
    return Origin(scheme, host, port, bool(m["wild"]))


@dataclass(frozen=True)
class Partner:
    caller: str
    origins: tuple[Origin, ...]
    rate: float | None = None
    burst: int | None = None

    def allows(self, origin: str) -> bool:
        parsed = parse_origin(origin)
        return parsed is not None and any(o.matches(parsed) for o in self.origins)

    def csp_sources(self) -> str:
        return " ".join(str(o) for o in self.origins)


@dataclass(frozen=True)
class WidgetPolicy:
    """What the widget page needs for one caller and the page that frames it."""

    frame_ancestors: str                 # the CSP `frame-ancestors` source list
    post_message_origin: str | None      # target origin of the widget's postMessage; None: do not post
    allowed: bool                        # False: render the "site non autorisé" state, not results


class PartnerRegistry:
    """Partners by caller, and the mode for callers that are not registered."""

    def __init__(self, partners: Mapping[str, Partner] | None = None, mode: str = "open") -> None:
        if mode not in MODES:
            raise SettingError(f"Setting 'WIDGET_PARTNER_MODE' has value {mode!r}: choose 'open' or 'strict'.")
        self.partners = dict(partners or {})
        self.strict = mode == "strict"

    @classmethod
    def from_settings(cls, settings: Settings) -> PartnerRegistry:
        path = Path(settings.partners_file) if settings.partners_file else None
        partners = load_partners(path) if path is not None else {}
        if settings.partner_mode == "strict" and not partners:
            # Strict with nobody registered would refuse every request: surely a mistake.
            raise SettingError("Setting 'WIDGET_PARTNER_MODE' is 'strict' but no partner is registered: "
                               "set WIDGET_PARTNERS_FILE to a file listing at least one partner.")
        return cls(partners, settings.partner_mode)

    def get(self, caller: str | None) -> Partner | None:
        return self.partners.get(caller) if caller else None

    def allows(self, caller: str | None, origin: str | None) -> bool:
        """May `caller` be used from a page of `origin` (None: no browser origin given)?"""
        partner = self.get(caller)
        if partner is None:
            return not self.strict
        return origin is None or partner.allows(origin)

    def allows_any(self, origin: str) -> bool:
        """Is `origin` one of any partner's (for requests that name no caller)?"""
        return any(p.allows(origin) for p in self.partners.values())

    def check(self, caller: str | None, origin: str | None) -> None:
        """Raise the 403 a request deserves; `origin` is None for same-origin and non-browser requests."""
        partner = self.get(caller)
        if caller and partner is None:
            if self.strict:
                raise UnknownCaller(caller)
            return
        if origin is None:
            return
        if partner is not None and not partner.allows(origin):
            raise OriginNotAllowed(origin, caller)
        if partner is None and self.strict and not self.allows_any(origin):
            raise OriginNotAllowed(origin)

    def frame_ancestors(self, caller: str | None) -> str:
        """CSP `frame-ancestors` sources for the widget of `caller`; never `*` in strict mode."""
        partner = self.get(caller)
        if partner is not None:
            return f"'self' {partner.csp_sources()}"
        return "'none'" if self.strict else "*"

    def cors_origin(self, caller: str | None, request_origin: str | None) -> str | None:
        """The `Access-Control-Allow-Origin` value for an API answer, or None for no header."""
        partner = self.get(caller)
        if partner is None and not self.strict:
            return "*"    # public read-only data: any page may read it
        if request_origin is None:
            return None
        normalised = parse_origin(request_origin)
        if normalised is None:
            return None
        if partner is not None:
            return str(normalised) if partner.allows(request_origin) else None
        if caller is None and self.allows_any(request_origin):
            return str(normalised)
        return None

    def widget_policy(self, caller: str | None, parent_origin: str | None) -> WidgetPolicy:
        """CSP and postMessage target for the widget page of `caller`, framed by `parent_origin`.

        `parent_origin` is the host page's origin as the loader reports it (or from the Referer);
        it cannot be trusted for access, which `frame-ancestors` enforces in the browser, but
        posting to it is safe: a browser only delivers a message to a window of that origin.
        """
        parent = parse_origin(parent_origin) if parent_origin else None
        partner = self.get(caller)
        if partner is None:
            allowed = not self.strict
        elif parent is None:
            # Unknown parent: frame-ancestors still guards; an unreadable claimed one is refused.
            allowed = not parent_origin
            exact = [o for o in partner.origins if not o.wildcard]
            if allowed and len(exact) == len(partner.origins) == 1:
                parent = exact[0]     # the only page that can frame it
        else:
            allowed = any(o.matches(parent) for o in partner.origins)
        target = str(parent) if parent is not None and allowed else None
        return WidgetPolicy(self.frame_ancestors(caller), target, allowed)


def load_partners(path: Path) -> dict[str, Partner]:
    """Read and validate a partners file; every problem raises PartnersFileError with its fix."""
    where = f"Partners file '{path}'"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PartnersFileError(f"{where} cannot be read: {exc.strerror or exc}.") from None
    try:
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise PartnersFileError(f"{where} is not valid {kind}: {exc}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("partners"), dict):
        raise PartnersFileError(f"{where} has no 'partners' table: write [partners.\"my-site.fr\"] "
                                "(TOML) or {\"partners\": {\"my-site.fr\": {...}}} (JSON).")
    extra = set(data) - {"partners"}
    if extra:
        raise PartnersFileError(f"{where} has unknown top-level keys {sorted(extra)}: only 'partners' is read.")
    return {caller: _partner(where, caller, entry) for caller, entry in data["partners"].items()}


def _partner(where: str, caller: str, entry: Any) -> Partner:
    if not CALLER_RE.match(caller):
        raise PartnersFileError(f"{where}: caller {caller!r} is not valid: 1 to 100 letters, digits or ._@-.")
    here = f"{where}: partner {caller!r}"
    if not isinstance(entry, dict):
        raise PartnersFileError(f"{here} must be a table with 'origins' (and optional 'rate', 'burst').")
    unknown = set(entry) - _PARTNER_KEYS
    if unknown:
        raise PartnersFileError(f"{here} has unknown keys {sorted(unknown)}: allowed are {sorted(_PARTNER_KEYS)}.")
    raw = entry.get("origins")
    if not isinstance(raw, list) or not raw or not all(isinstance(o, str) for o in raw):
        raise PartnersFileError(f"{here} needs 'origins', a non-empty list of origins "
                                "such as [\"https://www.example.fr\"].")
    origins = []
    for text in raw:
        origin = parse_origin(text, allow_wildcard=True)
        if origin is None:
            raise PartnersFileError(
                f"{here}: {text!r} is not an origin: write scheme://host[:port] with no path or "
                "trailing slash, e.g. 'https://www.example.fr', or 'https://*.example.fr' for its sub-domains.")
        origins.append(origin)
    rate, burst = entry.get("rate"), entry.get("burst")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0):
        raise PartnersFileError(f"{here}: 'rate' has value {rate!r}: a number of requests per second above 0.")
    if burst is not None and (isinstance(burst, bool) or not isinstance(burst, int) or burst < 1):
        raise PartnersFileError(f"{here}: 'burst' has value {burst!r}: a whole number of requests, 1 or more.")
    return Partner(caller, tuple(dict.fromkeys(origins)), float(rate) if rate is not None else None, burst)
