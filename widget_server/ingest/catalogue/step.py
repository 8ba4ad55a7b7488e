"""Build step: every real training source, merged into one catalogue (see the package docstring)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from widget_server.ingest.catalogue import diplomas as diploma_files
from widget_server.ingest.catalogue import organisations as organisation_files
from widget_server.ingest.catalogue import outcomes as outcome_files
from widget_server.ingest.catalogue.diplomas import Diplomas
from widget_server.ingest.catalogue.enrich import Enricher
from widget_server.ingest.catalogue.merge import Merger
from widget_server.ingest.catalogue.organisations import Organisations, Vocabulary
from widget_server.ingest.catalogue.outcomes import Outcomes
from widget_server.ingest.catalogue.record import TrainingRecord
from widget_server.ingest.files import resolve
from widget_server.ingest.readers import onisep_2023, parcoursup_2020, rco_2020_06, rco_2020_11
from widget_server.ingest.reference import record_source
from widget_server.ingest.referentials import Referentials
from widget_server.ingest.report import RowReport
from widget_server.store.writer import insert_items

# (source name, file under data/, the version its source_file row records)
SOURCE_FILES = (
    (rco_2020_11.SOURCE, rco_2020_11.FILE, "Catalogue RCO 2020-11"),
    (onisep_2023.SOURCE, onisep_2023.FILE, "Catalogue 2023 (clés ONISEP)"),
    (rco_2020_06.SOURCE, rco_2020_06.RCO_FILE, "RCO 2020-06-25"),
    (parcoursup_2020.SOURCE, parcoursup_2020.FILE, "Parcoursup 2020"),
)


@dataclass
class Catalogue:
    """Everything the merge and the enrichment need, loaded once from data/."""

    refs: Referentials
    diplomas: Diplomas
    organisations: Organisations
    outcomes: Outcomes
    regions: dict[str, tuple[str, str]]
    files: dict[str, tuple[int, str]] = field(default_factory=dict)   # name -> (rows, version)

    @classmethod
    def load(cls, conn: sqlite3.Connection, data_dir: Path, refs: Referentials) -> Catalogue:
        diplomas = Diplomas.load(data_dir, refs)
        vocabulary = Vocabulary(label for (label,) in conn.execute(
            "SELECT label FROM appellation UNION ALL SELECT label FROM rome UNION ALL SELECT label FROM diploma"
            " UNION ALL SELECT name FROM commune"))
        organisations = Organisations.load(data_dir, refs, vocabulary)
        outcomes = Outcomes.load(data_dir)
        regions = {insee: (code, name) for insee, code, name in
                   conn.execute("SELECT insee, region_code, region_name FROM commune") if code}
        catalogue = cls(refs, diplomas, organisations, outcomes, regions)
        for versions, rows in ((diploma_files.FILES, diplomas.rows), (organisation_files.FILES, organisations.rows),
                               (outcome_files.FILES, outcomes.rows)):
            for name, version in versions.items():
                catalogue.files[name] = (rows[name], version)
        return catalogue

    def rows(self, records: list[TrainingRecord], report: RowReport,
             source_label: str = "catalogue") -> tuple[list[dict], list[dict]]:
        """(formation rows, organisation rows) of the trainings these records describe.

        `source_label` is what the rows' `source` column says: "catalogue" for the build,
        "import" for a file an operator imported."""
        learnt = self.diplomas.learn_codes((r.certif, r.cfd, r.rncp) for r in records)
        report.notes["certifinfo:codes_from_sources"] = learnt
        trainings = Merger(self.diplomas, self.organisations).merge(records)
        enricher = Enricher(self.refs, self.diplomas, self.organisations, self.outcomes, self.regions,
                            source_label)
        enricher.learn_names(records)
        formations = [row for t in trainings if (row := enricher.formation(t, report)) is not None]
        # A source may repeat an id (the same action listed twice with other content): the
        # second training named after it gets "#2", deterministically (records are ordered).
        seen: dict[str, int] = {}
        for row in formations:
            if n := seen.get(row["key"]):
                seen[row["key"]] = n + 1
                row["key"] = f"{row['key']}#{n + 1}"
                report.notes["duplicate_key"] += 1
            else:
                seen[row["key"]] = 1
        report.kept = len(formations)
        return formations, enricher.organisation_rows()


def read_source(name: str, path: Path, refs: Referentials, diplomas: Diplomas,
                source: str | None = None) -> tuple[list[TrainingRecord], RowReport]:
    """Records of one file in the format of source `name`."""
    readers: dict[str, Callable[..., Any]] = {
        rco_2020_11.SOURCE: lambda: rco_2020_11.read(path, refs, source or name),
        onisep_2023.SOURCE: lambda: onisep_2023.read(path, refs, source or name),
        rco_2020_06.SOURCE: lambda: rco_2020_06.parse_rco(path, refs, source or name),
        parcoursup_2020.SOURCE: lambda: parcoursup_2020.read(path, refs, diplomas, source or name),
    }
    return readers[name]()   # type: ignore[no-any-return]


def insert_organisations(conn: sqlite3.Connection, rows: list[dict], *, replace: bool) -> None:
    if replace:
        conn.execute("DELETE FROM organisation")
    columns = ("siret", "uai", "name", "address", "postal_code", "city", "insee", "latitude", "longitude",
               "qualiopi", "email", "domains", "trainings", "source")
    conn.executemany(f"INSERT OR IGNORE INTO organisation({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                     [tuple(r[c] for c in columns) for r in rows])
    conn.execute("DELETE FROM organisation_geo")
    conn.execute("INSERT INTO organisation_geo SELECT id, latitude, latitude, longitude, longitude FROM organisation")


def facts(reports: dict[str, RowReport], merged: RowReport, formations: list[dict]) -> dict[str, str]:
    """What `data info` shows about the catalogue: per source, the merge, coverage and reasons."""
    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    def share(n: int) -> str:
        return f"{n / len(formations):.3f}" if formations else "0"

    no_rome = {k.split(":", 1)[1]: v for k, v in merged.notes.items() if k.startswith("no_rome:")}
    with_rome = sum(1 for f in formations if f["romes"])
    by_sources: dict[str, int] = {}
    for f in formations:
        combo = "+".join(sorted({s["source"] for s in json.loads(f["sources"])}))
        by_sources[combo] = by_sources.get(combo, 0) + 1
    out = {
        "trainings": str(len(formations)),
        "with_rome": str(with_rome), "share_with_rome": share(with_rome),
        "with_outcomes": str(n := sum(1 for f in formations if f["outcomes"])), "share_with_outcomes": share(n),
        "exact_position": str(n := sum(1 for f in formations if f["precision"] == "site")),
        "share_exact_position": share(n),
        "precision": compact({p: sum(1 for f in formations if f["precision"] == p)
                              for p in ("site", "organisation", "commune")}),
        "with_email": str(sum(1 for f in formations if f["email"])),
        "with_onisep": str(sum(1 for f in formations if f["onisep_ids"])),
        "by_sources": compact(by_sources),
        "rejected": str(len(merged.rejects)),
        "reasons": compact({"rejected": merged.reasons(), "no_rome": no_rome}),
        "notes": compact(dict(merged.notes)),
    }
    for source, report in reports.items():
        out[f"{source}.read"] = str(report.read)
        out[f"{source}.kept"] = str(report.kept)
        out[f"{source}.rejected"] = compact(report.reasons())
    return out


def build_step(conn: sqlite3.Connection, data_dir: Path, refs: Referentials, scale: str) -> dict[str, str]:
    """Load the merged real catalogue (the same at every scale: the national scale adds demo records)."""
    catalogue = Catalogue.load(conn, data_dir, refs)
    records: list[TrainingRecord] = []
    reports: dict[str, RowReport] = {}
    for name, file, version in SOURCE_FILES:
        found, report = read_source(name, resolve(data_dir, file), refs, catalogue.diplomas)
        records.extend(found)
        reports[name] = report
        record_source(conn, data_dir, file, report.read, version)
    merged = RowReport("catalogue")
    merged.read = len(records)
    formations, organisations = catalogue.rows(records, merged)
    insert_items(conn, "formation", formations)
    insert_organisations(conn, organisations, replace=True)
    for name, (rows, version) in catalogue.files.items():
        record_source(conn, data_dir, name, rows, version)
    return facts(reports, merged, formations)
