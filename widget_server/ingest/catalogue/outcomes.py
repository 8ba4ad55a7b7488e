"""What became of apprentices (InserJeunes): per CFA, and per diploma in a region.

Two files of the Ministry of Education (DEPP) and the Labour Ministry (DARES):

- `inserjeunes_cfa.csv` gives, per CFA (UAI) and cumulated school years ("cumul
  2023-2024"), the share of leavers in employment 6 and 12 months after, the rate
  expected given the CFA's intake and local job market, the value added (observed
  minus expected), the share going on to further study and of interrupted contracts;
- `inserjeunes_region_diplome.csv` gives, per region and diploma (CFD) for the
  apprenticeship route, the employment rates 6 and 12 months after and the share going
  on to further study, by school year ("2022_2023").

A training carries the figures that apply to it, each saying what it describes (this
CFA, or this diploma in this region), for which years and from which source: the
latest year that has an employment rate.  Nothing is carried where the data has
nothing (small counts are suppressed upstream: empty cells stay missing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from widget_server.ingest.catalogue.record import cfd_code, uai_code
from widget_server.ingest.files import read_csv, resolve

CFA_FILE = "outcomes/inserjeunes_cfa.csv"
REGION_FILE = "outcomes/inserjeunes_region_diplome.csv"
FILES = {CFA_FILE: "InserJeunes CFA 2018-2024", REGION_FILE: "InserJeunes région × diplôme 2019-2023"}
CFA_SOURCE = "InserJeunes (DEPP, DARES), par CFA"
REGION_SOURCE = "InserJeunes (DEPP, DARES), par diplôme et région"


def _pct(value: str | None) -> int | None:
    value = (value or "").strip().replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        return None
    return round(number) if -100 <= number <= 100 else None


def _count(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(float(value)) if value.replace(".", "", 1).isdigit() else None


@dataclass
class Outcomes:
    by_uai: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_cfd_region: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path) -> Outcomes:
        o = cls()
        o._load_cfas(data_dir)
        o._load_regions(data_dir)
        return o

    def _load_cfas(self, data_dir: Path) -> None:
        rows = list(read_csv(resolve(data_dir, CFA_FILE), delimiter=";"))
        self.rows[CFA_FILE] = len(rows)
        for r in rows:
            uai = uai_code(r["UAI"])
            employment_6 = _pct(r["Taux emploi 6 mois"])
            employment_12 = _pct(r["Taux emploi 12 mois"])
            if not uai or (employment_6 is None and employment_12 is None):
                continue
            period = r["Année"].strip()              # "cumul 2023-2024": later years sort last
            known = self.by_uai.get(uai)
            if known is not None and known["period"] >= period:
                continue
            self.by_uai[uai] = {
                "scope": "cfa", "uai": uai, "label": " ".join(r["Libellé"].split()),
                "period": period, "years": period.removeprefix("cumul").strip(),
                "employment_6_months": employment_6, "employment_12_months": employment_12,
                "expected_employment_6_months": _pct(r["Taux emploi 6 mois attendu"]),
                "value_added_6_months": _pct(r["VA emploi 6 mois"]),
                "further_study": _pct(r["Taux poursuite études"]),
                "interrupted_contracts": _pct(r["Part contrats apprentissage interrompus"]),
                "source": CFA_SOURCE,
            }

    def _load_regions(self, data_dir: Path) -> None:
        rows = list(read_csv(resolve(data_dir, REGION_FILE), delimiter=";"))
        self.rows[REGION_FILE] = len(rows)
        for r in rows:
            if r["voie"] != "apprentissage":
                continue
            cfd, region = cfd_code(r["cfd"]), r["code_region"].strip()
            employment_6, employment_12 = _pct(r["taux_emploi_6_mois"]), _pct(r["taux_emploi_12_mois"])
            if not cfd or not region or (employment_6 is None and employment_12 is None):
                continue
            period = r["millesime"].strip()          # "2022_2023"
            known = self.by_cfd_region.get((cfd, region))
            if known is not None and known["period"] >= period:
                continue
            self.by_cfd_region[(cfd, region)] = {
                "scope": "diploma_region", "cfd": cfd, "region_code": region,
                "period": period, "years": period.replace("_", "-"),
                "employment_6_months": employment_6, "employment_12_months": employment_12,
                "further_study": _pct(r["taux_poursuite_etudes"]), "leavers": _count(r["nb_sortant"]),
                "source": REGION_SOURCE,
            }

    def for_training(self, uais: list[str], cfds: list[str], region_code: str | None,
                     region_name: str | None) -> list[dict[str, Any]]:
        """The figures that apply to a training: its CFA's (the first of `uais` known), then
        its diploma's in its region (the first of `cfds` known)."""
        found = []
        for uai in uais:
            if uai in self.by_uai:
                found.append(dict(self.by_uai[uai]))
                break
        if region_code:
            for cfd in cfds:
                if (cfd, region_code) in self.by_cfd_region:
                    found.append({**self.by_cfd_region[(cfd, region_code)], "region": region_name})
                    break
        for figure in found:
            figure.pop("period", None)
        return found


def employment_rate(outcomes: list[dict[str, Any]]) -> float | None:
    """The one rate `sort=employment` ranks by: the CFA's 6-month employment rate when known,
    else the diploma's in the region (6 months, else 12)."""
    for scope in ("cfa", "diploma_region"):
        for figure in outcomes:
            if figure["scope"] == scope:
                rate = figure["employment_6_months"]
                if rate is None:
                    rate = figure["employment_12_months"]
                if rate is not None:
                    return float(rate)
    return None
