"""One sighting of a training in one source: the common currency of the catalogue's readers.

A reader turns each row of its file into a TrainingRecord with codes normalised the
same way whatever the source (CFD on 8 characters, "RNCP" + number, Certif Info ids
without leading zeros, 14-digit SIRETs, 5-character INSEE codes), so that the
matching rules compare like with like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PERIOD_RE = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")
_UAI_RE = re.compile(r"^[0-9]{7}[A-Z]$")


@dataclass(frozen=True)
class TrainingRecord:
    source: str                      # "rco_2020_11", "onisep_2023", "rco_2020_06", "parcoursup_2020", ...
    year: int                        # the year the source saw the training
    source_id: str                   # the row's id in its source (action, key, AF number...)
    line: int                        # where in the file (CSV line, 1-based with the header as line 1)
    certif: str = ""                 # Certif Info id
    cfd: str = ""
    rncp: str = ""
    title: str = ""                  # as the source names it (the June 2020 extract, Parcoursup)
    diploma_type: str = ""
    level: int | None = None         # as the source gives it (3..7)
    trainer_siret: str = ""
    trainer_uai: str = ""
    trainer_name: str = ""
    manager_siret: str = ""
    manager_uai: str = ""
    manager_name: str = ""
    insee: str = ""                  # commune of the training site (today's code)
    postal_code: str = ""
    address: str = ""
    latitude: float | None = None    # the training site's own coordinates, when the source has them
    longitude: float | None = None
    periods: tuple[str, ...] = ()    # intake months, "YYYY-MM"
    months: tuple[int, ...] = ()     # intake months when the source gives no year (1..12)
    capacity: int | None = None
    hours: int | None = None
    email: str = ""                  # a role or institution address (never a person's)
    onisep_id: str = ""              # "AF.79123"
    catalogue_key: str = ""          # cle_ministere_educatif
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def trainer_siren(self) -> str:
        return (self.trainer_siret or self.manager_siret)[:9]


def cfd_code(value: str | None) -> str:
    value = (value or "").strip().upper()
    # Excel stored CFDs as numbers, eating leading zeros.
    return value.zfill(8) if value and len(value) <= 8 and value.isalnum() else ""


def rncp_code(value: str | None) -> str:
    value = (value or "").strip().upper().removeprefix("RNCP").strip()
    return f"RNCP{int(value)}" if value.isdigit() and int(value) > 0 else ""


def certif_code(value: str | None) -> str:
    value = (value or "").strip()
    return str(int(value)) if value.isdigit() and int(value) > 0 else ""


def siret_code(value: str | None) -> str:
    digits = (value or "").replace(" ", "").strip()
    return digits if len(digits) == 14 and digits.isdigit() and digits.strip("0") else ""


def uai_code(value: str | None) -> str:
    value = (value or "").strip().upper()
    return value if _UAI_RE.match(value) else ""


def periods(value: str | None, separator: str = "|") -> tuple[str, ...]:
    """"2021-09|2022-01" -> ("2021-09", "2022-01"), unreadable parts dropped, sorted, unique."""
    found = {p.strip() for p in (value or "").split(separator)}
    return tuple(sorted(p for p in found if _PERIOD_RE.match(p)))


def email_address(value: str | None) -> str:
    value = (value or "").strip().lower()
    return value if re.fullmatch(r"[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)+", value) else ""
