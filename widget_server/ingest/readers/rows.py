"""The loop every catalogue reader runs: read each CSV row, keep its record or reject it with its line."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from widget_server.ingest.catalogue.record import TrainingRecord
from widget_server.ingest.report import RowReport
from widget_server.ingest.validate import RowRejected, csv_rows


def read_records(path: Path, required: tuple[str, ...], what: str, source: str,
                 make: Callable[[int, dict[str, str], RowReport], TrainingRecord]) -> tuple[list[TrainingRecord], RowReport]:
    """Records of the file (`make(line, row, report)` per row; RowRejected rejects that row only)."""
    report = RowReport(source)
    _, rows = csv_rows(path, required, what)
    records = []
    for line, r in rows:
        report.read += 1
        try:
            records.append(make(line, r, report))
            report.kept += 1
        except RowRejected as rejected:
            report.reject(line, rejected.reason, rejected.message)
    return records, report
