"""Per-caller counters kept in memory: requests, results served, errors (for the metrics)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

MAX_CALLERS = 10_000   # bounded: a caller name is client-supplied


@dataclass
class CallerCounts:
    requests: int = 0
    results: int = 0
    errors: int = 0


class CallerStats:
    def __init__(self) -> None:
        self._counts: dict[str, CallerCounts] = defaultdict(CallerCounts)

    def _get(self, caller: str) -> CallerCounts:
        if caller not in self._counts and len(self._counts) >= MAX_CALLERS:
            caller = "(autres)"
        return self._counts[caller]

    def record(self, caller: str, *, results: int = 0, error: bool = False) -> None:
        counts = self._get(caller)
        counts.requests += 1
        counts.results += results
        counts.errors += 1 if error else 0

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {c: vars(n).copy() for c, n in sorted(self._counts.items())}
