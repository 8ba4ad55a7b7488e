"""Group sightings of trainings (TrainingRecords) into trainings: the matching rules.

One training is one diploma taught at one site by one organisation.  Two records are
the same training when all three agree (docs/catalogue.md has the worked cases):

1. **Organisation**: the same company (SIREN, the first 9 digits of the SIRET: a SIRET
   changes when an organisation moves or re-registers, its SIREN does not).  The
   trainer (formateur) is used, the manager (gestionnaire) when no trainer is given.
   Records naming an organisation by UAI only (Parcoursup) get its SIRET from the
   organisation directory or from other records giving both.
2. **Site**: the same commune (INSEE code).  Most sources only know the commune of the
   site; where the November 2020 catalogue gives two GPS points for one diploma of one
   organisation in one commune, they are nearly always one site geocoded twice (a
   learner would see the same card twice), so they stay one training.
3. **Diploma**: their codes name the same diploma.  A record's codes are widened to
   every code of the same diploma (a Certif Info id's own CFD and RNCP code, the kits'
   CFD <-> RNCP pairs: `Diplomas.identity`); an older record also matches the
   diploma that replaced its own (`Diplomas.lineage`), so a 2020 BTS and its 2023
   successor at the same CFA are one training, not two.  Where the codes miss a link
   (a speciality under a new code, a retired Certif Info id), two records whose
   diplomas have the same title (letters folded) are the same diploma too.

Records are taken newest source first, so that a training's identity is its current
diploma; each later record joins the best matching training (most codes in common,
an identical Certif Info id first) or starts a new one.  Sessions and intakes of one
training (one row each in the sources) thereby become one training with their periods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from widget_server.ingest.catalogue.diplomas import Diplomas, Node
from widget_server.ingest.catalogue.organisations import Organisations
from widget_server.ingest.catalogue.record import TrainingRecord
from widget_server.text import fold

# Which source wins when several describe a training, best first: the newest, then the
# one with the site's own coordinates.
SOURCE_ORDER = ("onisep_2023", "rco_2020_11", "rco_2020_06", "parcoursup_2020")


@dataclass
class Training:
    records: list[TrainingRecord]
    nodes: set[Node]
    organisation: str                   # SIREN, or "uai:<UAI>" when no SIRET is known
    insee: str
    gps: tuple[float, float] | None = None
    certifs: set[str] = field(default_factory=set)
    titles: set[str] = field(default_factory=set)

    def add(self, record: TrainingRecord, nodes: frozenset[Node], title: str) -> None:
        self.records.append(record)
        self.nodes |= nodes
        if title:
            self.titles.add(title)
        if record.certif:
            self.certifs.add(record.certif)
        if self.gps is None and record.latitude is not None and record.longitude is not None:
            self.gps = (record.latitude, record.longitude)


def _rank(record: TrainingRecord) -> tuple[int, int]:
    order = SOURCE_ORDER.index(record.source) if record.source in SOURCE_ORDER else len(SOURCE_ORDER)
    return (-record.year, order)


class Merger:
    def __init__(self, diplomas: Diplomas, organisations: Organisations) -> None:
        self.diplomas = diplomas
        self.organisations = organisations

    def organisation_key(self, record: TrainingRecord, siret_of_uai: dict[str, str]) -> str:
        siret = record.trainer_siret or record.manager_siret
        if not siret:
            for uai in (record.trainer_uai, record.manager_uai):
                siret = siret_of_uai.get(uai, "") or self.organisations.siret_of_uai(uai)
                if siret:
                    break
        if siret:
            return siret[:9]
        return f"uai:{record.trainer_uai or record.manager_uai}"

    def merge(self, records: Iterable[TrainingRecord]) -> list[Training]:
        ordered = sorted(records, key=lambda r: (_rank(r), r.line, r.source_id))
        # UAI -> SIRET pairs that records themselves give (the RCO catalogue has both).
        siret_of_uai: dict[str, str] = {}
        for r in ordered:
            for uai, siret in ((r.trainer_uai, r.trainer_siret), (r.manager_uai, r.manager_siret)):
                if uai and siret:
                    siret_of_uai.setdefault(uai, siret)
        trainings: list[Training] = []
        buckets: dict[tuple[str, str], list[int]] = {}
        for record in ordered:
            nodes = self.diplomas.identity(record.certif, record.cfd, record.rncp)
            lineage = self.diplomas.lineage(nodes)
            title = fold(self.diplomas.describe(record.certif, record.cfd, record.rncp, record.title).title or "")
            key = (self.organisation_key(record, siret_of_uai), record.insee)
            best = self._best(record, lineage, title, [trainings[i] for i in buckets.get(key, ())])
            if best is None:
                best = Training([], set(), key[0], key[1])
                buckets.setdefault(key, []).append(len(trainings))
                trainings.append(best)
            best.add(record, nodes, title)
        return trainings

    @staticmethod
    def _best(record: TrainingRecord, lineage: frozenset[Node], title: str,
              candidates: Sequence[Training]) -> Training | None:
        best, best_score = None, (0, 0, 0)
        for training in candidates:
            common = len(lineage & training.nodes)
            same_title = 1 if title and title in training.titles else 0
            if not common and not same_title:
                continue
            score = (1 if record.certif and record.certif in training.certifs else 0, common, same_title)
            if score > best_score:   # strictly better: the earliest training wins ties
                best, best_score = training, score
        return best
