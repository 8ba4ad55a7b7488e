"""The 2023 catalogue keys, as La Bonne Alternance mapped them to ONISEP's training pages.

Each row is one training of the 2023 catalogue: its ministry key
(`cle_ministere_educatif`), its ONISEP "action de formation" id (`AF.79123`, which
has a public page) and what the key encodes:

    <Certif Info id, 6 digits><P|L>01<2 chars><SIRET gestionnaire><SIRET formateur>-<INSEE of the site>#<Lnn|Pnn>

The file splits most keys into columns; 502 rows (the `L01...#P01` spelling) are left
unsplit and are split here.  No dates, address or coordinates: the site is placed by
its organisation or its commune (enrich.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from widget_server.ingest.catalogue.record import TrainingRecord, certif_code, siret_code
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.readers.rows import read_records
from widget_server.ingest.report import RowReport
from widget_server.ingest.validate import RowRejected

SOURCE = "onisep_2023"
YEAR = 2023
FILE = "formations/onisep_af_catalogue_2023.csv"
REQUIRED = ("onisep_af", "cle_ministere_educatif")
KEY_RE = re.compile(r"^(?P<certif>\d{4,6})[PL]\d\d(?P<variant>..)(?P<manager>\d{14})(?P<trainer>\d{14})"
                    r"-(?P<insee>[0-9AB]{5})#(?P<site>[LP]\d\d)$")
ONISEP_RE = re.compile(r"^AF\.\d{1,7}$")


def split_key(key: str) -> dict[str, str] | None:
    """The parts of a cle_ministere_educatif, or None when it does not have the known shape."""
    m = KEY_RE.match(key.strip())
    return m.groupdict() if m else None


def read(path: Path, refs: Referentials, source: str = SOURCE) -> tuple[list[TrainingRecord], RowReport]:
    return read_records(path, REQUIRED, "des clés du catalogue 2023 (onisep_af, cle_ministere_educatif...)",
                        source, lambda line, r, report: _record(line, r, refs, report, source))


def _record(line: int, r: dict[str, str], refs: Referentials, report: RowReport, source: str) -> TrainingRecord:
    key = r["cle_ministere_educatif"]
    parts = split_key(key)
    if parts is None:
        raise RowRejected("bad_key", f"Ligne {line} : clé « {key[:80]} » illisible.")
    if not r.get("siret_formateur"):
        report.notes["key:split_here"] += 1
    place = refs.place(parts["insee"])
    if place is None:
        raise RowRejected("no_coordinates", f"Ligne {line} : commune « {parts['insee']} » inconnue.")
    onisep = r["onisep_af"].strip().upper()
    if not ONISEP_RE.match(onisep):
        report.notes["onisep:bad_id"] += 1
        onisep = ""
    trainer, manager = siret_code(parts["trainer"]), siret_code(parts["manager"])
    if not (trainer or manager):
        raise RowRejected("no_organisation", f"Ligne {line} : clé sans SIRET lisible.")
    return TrainingRecord(
        source=source, year=YEAR, source_id=key, line=line, certif=certif_code(parts["certif"]),
        trainer_siret=trainer, manager_siret=manager, insee=place.insee, postal_code=place.postal_code,
        onisep_id=onisep, catalogue_key=key, extra={"variant": parts["variant"], "site": parts["site"]},
    )
