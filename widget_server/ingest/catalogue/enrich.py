"""One merged training -> one `formation` row: what it is, who gives it, where, when, how it went.

For each fact the best source wins (merge.SOURCE_ORDER: newest first, then the one
with the site's own coordinates); a fact no source gives stays NULL.

Position, and how precise it is (`precision`, shown to the learner):
- `site`: the training site's own point (the November 2020 catalogue's GPS, or a
  geocoded training site of the organisation in that commune);
- `organisation`: the organisation's geocoded address, when it is in the training's
  commune;
- `commune`: the commune's centre (all that is known).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from widget_server.ingest.catalogue.diplomas import Diplomas
from widget_server.ingest.catalogue.merge import Training, _rank
from widget_server.ingest.catalogue.organisations import Organisation, Organisations
from widget_server.ingest.catalogue.outcomes import Outcomes, employment_rate
from widget_server.ingest.catalogue.record import TrainingRecord
from widget_server.ingest.referentials import Place, Referentials
from widget_server.ingest.report import RowReport

ONISEP_URL = "https://www.onisep.fr/http/redirection/formation/slug/{}"


def _first(values: Iterable[Any]) -> Any:
    return next((v for v in values if v not in ("", None, ())), None)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@dataclass
class OrganisationFacts:
    """What the trainings say about one training organisation (for the `organisation` table)."""

    siret: str
    org: Organisation | None
    name: str
    position: tuple[float, float]
    insee: str
    trainings: int = 0
    emails: Counter[str] = field(default_factory=Counter)
    domains: set[str] = field(default_factory=set)


MAX_IDS = 20   # ids listed per source (a training may have 60 sessions in one file)


def _sources(records: list[TrainingRecord]) -> list[dict[str, Any]]:
    """[{source, year, rows, ids}] per source, in SOURCE_ORDER."""
    grouped: dict[tuple[str, int], list[str]] = {}
    for r in records:
        grouped.setdefault((r.source, r.year), []).append(r.source_id)
    return [{"source": s, "year": y, "rows": len(ids), "ids": sorted(set(ids))[:MAX_IDS]}
            for (s, y), ids in grouped.items()]


class Enricher:
    def __init__(self, refs: Referentials, diplomas: Diplomas, organisations: Organisations,
                 outcomes: Outcomes, regions: dict[str, tuple[str, str]], source_label: str = "catalogue") -> None:
        self.refs = refs
        self.source_label = source_label
        self.diplomas = diplomas
        self.organisations = organisations
        self.outcomes = outcomes
        self.regions = regions          # INSEE -> (region code, region name)
        self.organisation_facts: dict[str, OrganisationFacts] = {}
        self.names_by_uai: dict[str, str] = {uai: o["label"] for uai, o in outcomes.by_uai.items() if o["label"]}
        self.names_by_siret: dict[str, str] = {}

    def learn_names(self, records: Iterable[TrainingRecord]) -> None:
        """Names that records give to organisations (the June 2020 extract, Parcoursup), by SIRET and UAI."""
        for r in sorted(records, key=lambda r: (_rank(r), r.line)):
            for siret, uai, name in ((r.trainer_siret, r.trainer_uai, r.trainer_name),
                                     (r.manager_siret, r.manager_uai, r.manager_name)):
                if name:
                    if siret:
                        self.names_by_siret.setdefault(siret, name)
                    if uai:
                        self.names_by_uai.setdefault(uai, name)

    def _name(self, siret: str, uai: str | None, org: Organisation | None) -> str | None:
        """The organisation's name: as a catalogue wrote it, from the directory, by its UAI,
        then another establishment of the same company."""
        return (self.names_by_siret.get(siret) or (org.name if org else "") or self.names_by_uai.get(uai or "")
                or self.organisations.name_of_siren(siret[:9]) or None)

    def formation(self, training: Training, report: RowReport) -> dict[str, Any] | None:
        records = sorted(training.records, key=lambda r: (_rank(r), r.line, r.source_id))
        facts = [self.diplomas.describe(r.certif, r.cfd, r.rncp, r.title, r.level, r.diploma_type) for r in records]
        named = next((f for f in facts if f.title), None)
        if named is None:
            report.reject(records[0].line, "no_title",
                          f"{records[0].source}, ligne {records[0].line} : diplôme sans intitulé connu "
                          f"(Certif Info {records[0].certif or '-'}, CFD {records[0].cfd or '-'}, "
                          f"RNCP {records[0].rncp or '-'}).")
            return None
        with_romes = next((f for f in facts if f.romes), None)
        report.notes[(with_romes or named).rome_how] += 1
        report.notes[named.title_how] += 1
        place = self.refs.places[training.insee]
        trainer_siret = _first(r.trainer_siret for r in records) or ""
        manager_siret = _first(r.manager_siret for r in records) or ""
        trainer = self.organisations.get(trainer_siret)
        manager = self.organisations.get(manager_siret)
        lat, lon, precision, address = self._position(records, trainer, place)
        report.notes[f"position:{precision}"] += 1
        uai = _first([*(r.trainer_uai for r in records), trainer.uai if trainer else "",
                      *(r.manager_uai for r in records), manager.uai if manager else ""]) or None
        region = self.regions.get(place.insee)
        outcomes = self.outcomes.for_training(
            [u for u in dict.fromkeys([*(r.trainer_uai for r in records), trainer.uai if trainer else "",
                                       *(r.manager_uai for r in records), manager.uai if manager else ""]) if u],
            [c for c in dict.fromkeys(f.cfd for f in facts) if c],
            region[0] if region else None, region[1] if region else None)
        if outcomes:
            report.notes["outcomes:" + "+".join(o["scope"] for o in outcomes)] += 1
        months = sorted({m for r in records for m in r.months} | {int(p[5:]) for r in records for p in r.periods})
        onisep = sorted({r.onisep_id for r in records if r.onisep_id})
        email = _first(r.email for r in records)
        trainer_name = _first([*(r.trainer_name for r in records), self._name(trainer_siret, uai, trainer)])
        manager_name = _first([*(r.manager_name for r in records),
                               self._name(manager_siret, _first(r.manager_uai for r in records), manager)])
        qualiopi = _first([trainer.qualiopi if trainer else None, manager.qualiopi if manager else None])
        row = {
            "key": f"{records[0].source}:{records[0].source_id}", "title": named.title,
            "diploma_label": named.title, "diploma_type": named.type_label, "level": named.level,
            "cfd": named.cfd, "rncp": named.rncp, "romes": list(with_romes.romes if with_romes else ()),
            "centre_name": manager_name or trainer_name, "centre_siret": manager_siret or trainer_siret or None,
            "trainer_name": trainer_name or manager_name, "trainer_siret": trainer_siret or None,
            "address": address, "postal_code": _first(r.postal_code for r in records) or place.postal_code,
            "city": place.name, "insee": place.insee, "latitude": lat, "longitude": lon,
            "entry_periods": None,
            "hours": _first(r.hours for r in records), "capacity": _first(r.capacity for r in records),
            "url": ONISEP_URL.format(onisep[0]) if onisep else None, "source": self.source_label, "demo": False,
            "uai": uai, "catalogue_keys": " ".join(sorted({r.catalogue_key for r in records if r.catalogue_key})) or None,
            "onisep_ids": " ".join(onisep) or None,
            "intake_months": ",".join(map(str, months)) or None,
            "periods": ",".join(sorted({p for r in records for p in r.periods})) or None,
            "email": email, "phone": None, "website": None,
            "qualiopi": None if qualiopi is None else int(bool(qualiopi)), "precision": precision,
            "sources": _compact(_sources(records)),
            "years": ",".join(map(str, sorted({r.year for r in records}))),
            "outcomes": _compact(outcomes) if outcomes else None,
            "employment_rate": employment_rate(outcomes),
        }
        self._count_organisation(trainer_siret or manager_siret, trainer or manager, row)
        return row

    def _position(self, records: list[TrainingRecord], trainer: Organisation | None,
                  place: Place) -> tuple[float, float, str, str | None]:
        for r in records:
            if r.latitude is not None and r.longitude is not None:
                return r.latitude, r.longitude, "site", r.address or None
        if trainer is not None:
            for site in trainer.sites:
                if site.insee == place.insee:
                    return site.latitude, site.longitude, "site", site.address or None
            if trainer.insee == place.insee and trainer.latitude is not None and trainer.longitude is not None:
                return trainer.latitude, trainer.longitude, "organisation", trainer.address or None
        return place.latitude, place.longitude, "commune", None

    def _count_organisation(self, siret: str, org: Organisation | None, row: dict[str, Any]) -> None:
        if not siret:
            return
        facts = self.organisation_facts.get(siret)
        if facts is None:
            position = (org.latitude, org.longitude) if org and org.latitude is not None else None
            facts = OrganisationFacts(
                siret, org, row["trainer_name"] or row["centre_name"] or "",
                position or (row["latitude"], row["longitude"]),  # type: ignore[arg-type]
                org.insee if org and position else row["insee"])
            self.organisation_facts[siret] = facts
        facts.trainings += 1
        if row["email"]:
            facts.emails[row["email"]] += 1
        facts.domains.update(code[:3] for code in row["romes"])

    def organisation_rows(self) -> list[dict[str, Any]]:
        rows = []
        for siret in sorted(self.organisation_facts):
            f = self.organisation_facts[siret]
            if not f.name:
                continue
            place = self.refs.places.get(f.insee)
            rows.append({
                "siret": siret, "uai": f.org.uai if f.org and f.org.uai else None, "name": f.name,
                "address": f.org.address if f.org and f.org.address else None,
                "postal_code": (f.org.postal_code if f.org and f.org.postal_code else None)
                or (place.postal_code if place else None),
                "city": place.name if place else (f.org.city if f.org else None), "insee": f.insee,
                "latitude": f.position[0], "longitude": f.position[1],
                "qualiopi": None if not f.org or f.org.qualiopi is None else int(f.org.qualiopi),
                "email": min(f.emails, key=lambda e: (-f.emails[e], e)) if f.emails else None,
                "domains": ",".join(sorted(f.domains)), "trainings": f.trainings,
                "source": f.org.source if f.org else "catalogue",
            })
        return rows
