"""Reading query parameters while collecting every problem, so one 400 lists them all."""

from __future__ import annotations

import math
from typing import Iterable

from starlette.datastructures import QueryParams

from widget_server.errors import InvalidParameters, ParameterError

IGNORED_PREFIXES = ("utm_", "_")   # analytics tags and cache busters are not mistakes
# One answer lists every problem, but a crafted query could hold thousands: past this many the
# client has enough to fix, and the work per request stays bounded (docs/limits.md).
MAX_ERRORS = 20


class ParamReader:
    """Typed access to query parameters; errors accumulate until `raise_if_errors()`."""

    def __init__(self, params: QueryParams, aliases: dict[str, str] | None = None) -> None:
        self.params = params
        self.aliases = aliases or {}          # alias -> canonical name
        self.errors: list[ParameterError] = []
        self._known_errors: set[ParameterError] = set()   # a set: a list would make this quadratic
        self._seen: set[str] = set()

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_ERRORS

    def error(self, param: str, code: str, message: str) -> None:
        problem = ParameterError(param, code, message)
        if problem not in self._known_errors and not self.full:
            self._known_errors.add(problem)
            self.errors.append(problem)

    def raw(self, name: str) -> tuple[str, str | None]:
        """(name the caller used, value) for a canonical name or one of its aliases."""
        self._seen.add(name)
        names = [name] + [a for a, canonical in self.aliases.items() if canonical == name]
        given = [n for n in names if n in self.params]
        for n in given:
            self._seen.add(n)
        if len(given) > 1:
            self.error(given[1], "duplicate_parameter",
                       f"« {given[0]} » et « {given[1]} » désignent le même paramètre : n'en donnez qu'un.")
        if not given:
            return name, None
        values = self.params.getlist(given[0])
        if len(values) > 1:
            self.error(given[0], "duplicate_parameter",
                       f"Le paramètre « {given[0]} » est donné {len(values)} fois : donnez-le une seule fois.")
        return given[0], values[0].strip()

    def text(self, name: str, *, required: bool = False, min_len: int = 0, max_len: int = 200) -> str | None:
        used, value = self.raw(name)
        if value is None or value == "":
            if required:
                self.error(used, "missing", f"Le paramètre « {used} » est obligatoire.")
            return None
        if len(value) < min_len:
            self.error(used, "too_short",
                       f"« {used} » doit contenir au moins {min_len} caractères (reçu : {len(value)}).")
            return None
        if len(value) > max_len:
            self.error(used, "too_long",
                       f"« {used} » doit contenir au plus {max_len} caractères (reçu : {len(value)}).")
            return None
        return value

    def integer(self, name: str, *, lo: int, hi: int, default: int | None = None,
                required: bool = False) -> int | None:
        used, value = self.raw(name)
        if value is None or value == "":
            if required:
                self.error(used, "missing", f"Le paramètre « {used} » est obligatoire.")
            return default
        try:
            number = int(value)
        except ValueError:
            self.error(used, "not_an_integer",
                       f"« {used} » doit être un nombre entier entre {lo} et {hi} (reçu : « {value[:30]} »).")
            return default
        if not lo <= number <= hi:
            self.error(used, "out_of_range", f"« {used} » doit être compris entre {lo} et {hi} (reçu : {number}).")
            return default
        return number

    def number(self, name: str, *, lo: float, hi: float, required: bool = False) -> float | None:
        used, value = self.raw(name)
        if value is None or value == "":
            if required:
                self.error(used, "missing", f"Le paramètre « {used} » est obligatoire.")
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.error(used, "not_a_number",
                       f"« {used} » doit être un nombre décimal avec un point (ex. 45.76), reçu « {value[:30]} ».")
            return None
        if not lo <= number <= hi:
            self.error(used, "out_of_range", f"« {used} » doit être compris entre {lo:g} et {hi:g} (reçu : {number:g}).")
            return None
        return number

    def choice(self, name: str, allowed: Iterable[str], *, default: str | None = None) -> str | None:
        used, value = self.raw(name)
        if value is None or value == "":
            return default
        allowed = list(allowed)
        if value not in allowed:
            self.error(used, "not_allowed",
                       f"« {used} » doit valoir {_one_of(allowed)} (reçu : « {value[:30]} »).")
            return default
        return value

    def reject_unknown(self) -> None:
        """Report parameters nobody asked for: a typo should not be silently ignored."""
        accepted = sorted(self._seen)
        for name in self.params.keys():
            if self.full:
                return
            if name in self._seen or name.startswith(IGNORED_PREFIXES):
                continue
            self.error(name, "unknown_parameter",
                       f"Paramètre inconnu « {name[:40]} ». Paramètres acceptés : {', '.join(accepted)}.")

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InvalidParameters(self.errors)


def _one_of(allowed: list[str]) -> str:
    quoted = [f"« {a} »" for a in allowed]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " ou " + quoted[-1]
