"""Training organisations (CFAs, schools, training centres): names, addresses, positions, Qualiopi.

Read from, best first for each fact:

- the catalogue's directory of October 2022 (`catalogue_etablissements_20221012.csv`,
  5,691 establishments: SIRET, UAI, names, street address, geocoded point, Qualiopi);
- the référentiel UAI-SIRET sample (`referentiel_organismes.fixture.json`, 808
  organisations with their geocoded training sites and Qualiopi status);
- the prepa-apprentissage directory (`organismes-prepa-apprentissage.csv`, 6,059: UAI,
  SIRET, names, one-line address).

Names arrive in capitals ("LYCEE POLYVALENT EMILE ZOLA"); `display_name` writes them the
way French signs do ("Lycée Polyvalent Émile Zola"), restoring accents from a vocabulary
of real French words (job titles, diploma titles, communes) and keeping as capitals
the short words that are not French words (acronyms: CFA, BTP, IRFSS...).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from widget_server.ingest.catalogue.record import siret_code, uai_code
from widget_server.ingest.files import read_csv, read_text, resolve
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.validate import point
from widget_server.text import fold

DIRECTORY = "organismes/catalogue_etablissements_20221012.csv"
REFERENTIEL = "organismes/referentiel_organismes.fixture.json"
PREPA = "organismes/organismes-prepa-apprentissage.csv"
FILES = {DIRECTORY: "Catalogue des établissements 2022-10-12", REFERENTIEL: "Référentiel UAI-SIRET (extrait)",
         PREPA: "Organismes prépa-apprentissage"}

_SMALL_WORDS = frozenset("de du des la le les et en a au aux sur sous pour par l d".split())
_ACRONYM_MAX = 6


@dataclass(frozen=True)
class Site:
    insee: str
    latitude: float
    longitude: float
    address: str


@dataclass(frozen=True)
class Organisation:
    siret: str
    uai: str = ""
    name: str = ""
    address: str = ""              # street address, without postal code and city
    postal_code: str = ""
    insee: str = ""
    city: str = ""
    latitude: float | None = None  # the geocoded address
    longitude: float | None = None
    qualiopi: bool | None = None
    closed: bool = False
    sites: tuple[Site, ...] = ()   # geocoded training sites (référentiel)
    source: str = ""


class Vocabulary:
    """Folded word -> its usual accented spelling, from texts written in proper French."""

    def __init__(self, texts: Iterable[str]) -> None:
        counts: dict[str, Counter[str]] = {}
        for text in texts:
            for word in re.findall(r"[^\W\d_]+", text):
                if word.islower() or word.istitle():
                    lower = word.lower()
                    counts.setdefault(fold(lower), Counter())[lower] += 1
        self.spelling = {k: c.most_common(1)[0][0] for k, c in counts.items()}

    def display_name(self, name: str) -> str:
        name = " ".join(name.split())
        if not name or not name.isupper():
            return name   # already written by a person: keep it
        out = []
        for i, token in enumerate(re.split(r"(\W+)", name)):
            if not token or not token[0].isalpha():
                out.append(token)
                continue
            folded = fold(token)
            known = self.spelling.get(folded)
            if known is None and len(token) <= _ACRONYM_MAX:
                out.append(token)                       # not a French word: an acronym
            elif folded in _SMALL_WORDS and i > 0:
                out.append(known or token.lower())
            else:
                word = known or token.lower()
                out.append(word[:1].upper() + word[1:])
        return "".join(out).replace("D'", "d'").replace("L'", "l'") if len(out) > 1 else "".join(out)


@dataclass
class Organisations:
    by_siret: dict[str, Organisation] = field(default_factory=dict)
    siret_by_uai: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path, refs: Referentials, vocabulary: Vocabulary) -> Organisations:
        orgs = cls()
        orgs._load_directory(data_dir, refs, vocabulary)
        orgs._load_referentiel(data_dir, refs)
        orgs._load_prepa(data_dir, refs, vocabulary)
        return orgs

    def _add(self, org: Organisation) -> None:
        known = self.by_siret.get(org.siret)
        if known is None:
            self.by_siret[org.siret] = org
        else:   # the first file read is the best one: later ones only fill its gaps
            self.by_siret[org.siret] = replace(known, **{
                k: v for k, v in org.__dict__.items()
                if v not in ("", None, ()) and getattr(known, k) in ("", None, ())})
        if org.uai and org.uai not in self.siret_by_uai:
            self.siret_by_uai[org.uai] = org.siret

    def _load_directory(self, data_dir: Path, refs: Referentials, vocabulary: Vocabulary) -> None:
        rows = list(read_csv(resolve(data_dir, DIRECTORY)))
        self.rows[DIRECTORY] = len(rows)
        for r in rows:
            siret = siret_code(r["siret"])
            if not siret:
                continue
            brand, legal = r["enseigne"].strip(), r["entreprise_raison_sociale"].strip()
            # The sign over the door when it says something (two words or more), the legal name otherwise.
            name = brand if len(brand.split()) >= 2 and len(brand) >= 8 else legal or brand
            street = " ".join(" ".join((r["numero_voie"], r["type_voie"], r["nom_voie"])).split())
            place = refs.place(r["code_insee_localite"])
            gps = point(r["latitude"], r["longitude"])
            self._add(Organisation(
                siret=siret, uai=uai_code(r["uai"]), name=vocabulary.display_name(name),
                address=vocabulary.display_name(street) if street else "",
                postal_code=r["code_postal"].strip(), insee=place.insee if place else "",
                city=place.name if place else r["localite"].title(),
                latitude=gps[0] if gps else None, longitude=gps[1] if gps else None,
                qualiopi={"true": True, "false": False}.get(r["certifie_qualite"]),
                closed=r["ferme"] == "true", source=DIRECTORY))

    def _load_referentiel(self, data_dir: Path, refs: Referentials) -> None:
        entries = json.loads(read_text(resolve(data_dir, REFERENTIEL)))
        self.rows[REFERENTIEL] = len(entries)
        for e in entries:
            siret = siret_code(e.get("siret"))
            if not siret:
                continue
            sites = []
            for lieu in e.get("lieux_de_formation") or ():
                address = lieu.get("adresse") or {}
                coords = ((address.get("geojson") or {}).get("geometry") or {}).get("coordinates") or ()
                gps = point(coords[1], coords[0]) if len(coords) == 2 else None
                place = refs.place(address.get("code_insee") or "")
                if gps and place:
                    sites.append(Site(place.insee, gps[0], gps[1], " ".join((address.get("label") or "").split())))
            uais = [uai_code(u.get("uai")) for u in e.get("uai_potentiels") or ()]
            self._add(Organisation(siret=siret, uai=uai_code(e.get("uai")) or next((u for u in uais if u), ""),
                                   qualiopi=e.get("qualiopi"), closed=e.get("etat_administratif") == "fermé",
                                   sites=tuple(sorted(sites, key=lambda s: (s.insee, s.latitude, s.longitude))),
                                   source=REFERENTIEL))

    def _load_prepa(self, data_dir: Path, refs: Referentials, vocabulary: Vocabulary) -> None:
        rows = list(read_csv(resolve(data_dir, PREPA), delimiter=";"))
        self.rows[PREPA] = len(rows)
        for r in rows:
            siret = siret_code(r.get("siret"))
            if not siret:
                continue
            brand, legal = (r.get("enseigne") or "").strip(), (r.get("raison_sociale") or "").strip()
            name = brand if len(brand.split()) >= 2 and len(brand) >= 8 else legal or brand
            self._add(Organisation(siret=siret, uai=uai_code(r.get("uai")), name=vocabulary.display_name(name),
                                   source=PREPA))

    def name_of_siren(self, siren: str) -> str:
        """A name of the company (another establishment's), when this establishment has none."""
        if not hasattr(self, "_siren_names"):
            names: dict[str, str] = {}
            for siret in sorted(self.by_siret):
                if self.by_siret[siret].name:
                    names.setdefault(siret[:9], self.by_siret[siret].name)
            self._siren_names = names
        return self._siren_names.get(siren, "") if siren else ""

    def get(self, siret: str) -> Organisation | None:
        return self.by_siret.get(siret) if siret else None

    def siret_of_uai(self, uai: str) -> str:
        return self.siret_by_uai.get(uai, "") if uai else ""
