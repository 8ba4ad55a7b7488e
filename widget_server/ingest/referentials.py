"""In-memory view of the reference tables, for the loaders and importers that validate rows."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    insee: str
    name: str
    postal_code: str      # the commune's first postal code
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True)
class Diploma:
    label: str
    type_label: str
    level: int | None
    cfd: str | None
    rncp: str | None
    romes: tuple[str, ...]


class Referentials:
    """Lookups used while building or importing: communes, diplomas, ROME and NAF codes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.places: dict[str, Place] = {}
        self.places_by_postal_code: dict[str, list[Place]] = {}
        for insee, name, postal, pop, lat, lon in conn.execute(
            "SELECT insee, name, postal_codes, population, latitude, longitude FROM commune"
            " ORDER BY insee"
        ):
            codes = postal.split()
            place = Place(insee, name, codes[0] if codes else "", lat, lon, pop)
            self.places[insee] = place
            for code in codes:
                self.places_by_postal_code.setdefault(code, []).append(place)
        for codes in self.places_by_postal_code.values():
            codes.sort(key=lambda p: -p.population)
        self.commune_alias: dict[str, str] = dict(conn.execute("SELECT insee, commune FROM commune_alias"))
        self.rome_labels: dict[str, str] = dict(conn.execute("SELECT code, label FROM rome"))
        self.rome_parent: dict[str, str] = dict(conn.execute("SELECT code, parent FROM rome"))
        self.naf_labels: dict[str, str] = dict(conn.execute("SELECT code, label FROM naf"))
        self.diplomas_by_cfd: dict[str, list[Diploma]] = {}
        self.diplomas_by_rncp: dict[str, list[Diploma]] = {}
        for label, type_label, level, cfd, rncp, romes in conn.execute(
            "SELECT label, type_label, level, cfd, rncp, romes FROM diploma ORDER BY id"
        ):
            d = Diploma(label, type_label, level, cfd, rncp, tuple(r for r in romes.split(",") if r))
            if cfd:
                self.diplomas_by_cfd.setdefault(cfd, []).append(d)
            if rncp:
                self.diplomas_by_rncp.setdefault(rncp, []).append(d)

    def place(self, insee: str) -> Place | None:
        """The commune of an INSEE code, following former/delegated codes to today's commune."""
        insee = insee.strip().zfill(5) if insee else ""
        found = self.places.get(insee)
        if found is None and insee in self.commune_alias:
            found = self.places.get(self.commune_alias[insee])
        return found

    def place_by_postal_code(self, postal_code: str) -> Place | None:
        """The most populated commune served by a postal code."""
        candidates = self.places_by_postal_code.get(postal_code.strip())
        return candidates[0] if candidates else None

    def is_rome(self, code: str) -> bool:
        return code in self.rome_labels

    def is_naf(self, code: str) -> bool:
        return code in self.naf_labels
